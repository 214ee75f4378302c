#ifndef GREET_H
#define GREET_H
void greet(const char *who);
int twice(int x);
#endif
