/*
 * A "libmount.so.1" that loads but has none of libmount's symbols: put
 * first on LD_LIBRARY_PATH, it makes procache's dlopen() of libmount
 * succeed and its dlsym() fail (tests/t0410-run-options.sh).
 */
int procache_libmount_stub(void);

int procache_libmount_stub(void)
{
	return 0;
}
