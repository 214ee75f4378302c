/*
 * Passing one file descriptor over a Unix socket (SCM_RIGHTS), as the
 * sandbox hands the seccomp listener from the job to the supervisor.
 */
#ifndef PROCACHE_COMMON_FDPASS_H
#define PROCACHE_COMMON_FDPASS_H

/*
 * Send @fd over the connected socket @sock with one byte of data
 * (MSG_NOSIGNAL, EINTR retried). Async-signal-safe: usable in a child
 * between fork and exec. Returns 0 or -errno.
 */
int fd_send(int sock, int fd);
/* The same with @byte as the data (fd_recv_byte() reads it). */
int fd_send_byte(int sock, int fd, unsigned char byte);

/*
 * Receive one fd sent by fd_send() (it arrives O_CLOEXEC). Returns the
 * fd, -ENODATA when the peer closed without sending, -EPROTO when the
 * message carried no single fd (any fds it did carry are closed), or
 * -errno from recvmsg().
 */
int fd_recv(int sock);
/* The same, with the byte of data into *@byte. */
int fd_recv_byte(int sock, unsigned char *byte);

#endif
