/*
 * Libraries loaded with dlopen() when first needed rather than linked, so
 * that a procache process that does not use them (a cache hit) pays
 * nothing for them at start-up: libcurl (cache/remote-http.c).
 */
#ifndef PROCACHE_COMMON_DLSYMS_H
#define PROCACHE_COMMON_DLSYMS_H

#include <stddef.h>

#include "common/strbuf.h"

/* A symbol to resolve: its name, and where its address goes. */
struct dl_sym {
	const char *name;
	void **addr;
};

/*
 * dlopen(@soname, RTLD_NOW|RTLD_LOCAL) unless *@handle already holds it
 * (the caller keeps the handle in a static: the library stays loaded),
 * then resolve each of @syms. Returns 0, or -ENOENT with "cannot load
 * SONAME: why" or "cannot load SONAME: no symbol NAME" in @err. Not
 * thread-safe (callers load from one thread).
 */
int dl_load(const char *soname, void **handle, const struct dl_sym *syms,
	    size_t n, struct strbuf *err);

#endif
