#include "greet.h"
int main(void)
{
	greet("procache");
	return twice(0);
}
