/*
 * A byte sink that hands what is written to it to a thread of its own.
 *
 * A backup's main thread reads each file, hashes it for the index and
 * feeds the compressor: it is the thread the run waits on. What comes
 * out of the compressor still has to be encrypted, hashed as stored and
 * written to the file (a copy into the page cache); done there, all of
 * it lengthens that thread while the second core has time to spare. This
 * sink copies each write into one of a few buffers and returns; the
 * thread ("cairn-write") passes full buffers on to the sink it wraps, in
 * order.
 *
 * Errors come back late: a write that fails in the thread (ENOSPC, an
 * encryption failure) is returned by a later write or by finish, which
 * waits for every buffer. Either way the archive is abandoned, as it
 * would have been at once. Memory: THREAD_SINK_BUFFERS of
 * THREAD_SINK_BUFFER_SIZE.
 */
#ifndef CAIRN_THREAD_SINK_H
#define CAIRN_THREAD_SINK_H

#include <cairn/plugin.h>

struct byte_sink;

#define THREAD_SINK_BUFFERS 4
#define THREAD_SINK_BUFFER_SIZE (256 * 1024)

/*
 * A sink writing to inner, which it takes over (freed with the new
 * sink), from a thread it starts. NULL with err set when the thread
 * cannot start; inner is then freed too.
 */
struct byte_sink *thread_sink_new(struct byte_sink *inner,
				  struct cairn_error *err);

#endif
