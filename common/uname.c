#include <string.h>

#include "common/uname.h"
#include "common/banned.h"

const char *uname_field(const struct utsname *u, const char *name)
{
	if (!strcmp(name, "uname.sysname"))
		return u->sysname;
	if (!strcmp(name, "uname.release"))
		return u->release;
	if (!strcmp(name, "uname.version"))
		return u->version;
	if (!strcmp(name, "uname.machine"))
		return u->machine;
	if (!strcmp(name, "uname.domainname"))
		return u->domainname;
	return NULL;
}
