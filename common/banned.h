/*
 * Functions that are easy to misuse, banned from our own code (as in git).
 * Include this header last in every .c file of common/ (other modules
 * may do the same), after all system headers, so that it does not break
 * their declarations; a call to a banned function then fails to compile
 * with an error naming it.
 *
 * Use instead: strbuf_add*() or xstrdup()/xstrndup() for strcpy and
 * friends, snprintf() or xasprintf() for sprintf, a manual scan with
 * strchr()/strcspn() for strtok, localtime_r()/gmtime_r() and strftime()
 * for the time functions, fgets()/getline() for gets.
 */
#ifndef PROCACHE_COMMON_BANNED_H
#define PROCACHE_COMMON_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)

#undef sprintf
#undef vsprintf
#define sprintf(...) BANNED(sprintf)
#define vsprintf(...) BANNED(vsprintf)

#undef strtok
#define strtok(x, y) BANNED(strtok)

#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef asctime
#define asctime(t) BANNED(asctime)

#undef gets
#define gets(s) BANNED(gets)

#endif
