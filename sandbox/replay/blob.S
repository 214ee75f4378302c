/*
 * The replayer (sandbox/replay/pcreplay.c, built static by the makefile)
 * embedded in procache; sandbox/nest-redirect.c writes it into each
 * skipped unit's memfd. REPLAYER names the built file.
 */
	.section .rodata
	.balign 16
	.globl nest_replayer_bytes
	.type nest_replayer_bytes, @object
nest_replayer_bytes:
	.incbin REPLAYER
	.globl nest_replayer_end
nest_replayer_end:
	.section .note.GNU-stack, "", @progbits
