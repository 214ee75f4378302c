/*
 * The fast path's preload library (sandbox/preload/pcfast.c, built as a
 * shared object by the makefile) embedded in procache, which writes it to
 * each run's directory (sandbox/trace-fast.c). FASTLIB names the built
 * file.
 */
	.section .rodata
	.balign 16
	.globl fp_lib_bytes
	.type fp_lib_bytes, @object
fp_lib_bytes:
	.incbin FASTLIB
	.globl fp_lib_end
fp_lib_end:
	.section .note.GNU-stack, "", @progbits
