/* Loading a library when first needed (contract in common/dlsyms.h). */
#include <dlfcn.h>
#include <errno.h>

#include "common/dlsyms.h"
#include "common/banned.h"

int dl_load(const char *soname, void **handle, const struct dl_sym *syms,
	    size_t n, struct strbuf *err)
{
	if (!*handle)
		*handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!*handle) {
		const char *why = dlerror();

		return strbuf_error(err, -ENOENT, "cannot load %s: %s", soname,
				    why ? why : "unknown error");
	}
	for (size_t i = 0; i < n; i++) {
		*syms[i].addr = dlsym(*handle, syms[i].name);
		if (!*syms[i].addr)
			return strbuf_error(err, -ENOENT, "cannot load %s: no symbol %s",
					    soname, syms[i].name);
	}
	return 0;
}
