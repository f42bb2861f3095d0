/*-------------------------------------------------------------------------
 *
 * error_watch.c
 *		The error watch's place at the bottom of each session's error
 *		context stack, and what the stack above it says.
 *
 * The watch is an error context callback that PostgreSQL calls for every
 * report it makes, before anything can catch an error: what it notes of
 * the report is the failure capture's (capture_failure.c,
 * bh_failure_report_seen).  Kept here: putting the watch back where the
 * recovery from an error emptied the stack, and the questions the capture
 * asks of the frames pushed above it (whether any is, which is the
 * innermost, whether it is one marked before).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/params.h"
#include "utils/memutils.h"

#include "capture.h"

/*
 * The error watch: an error context callback, so PostgreSQL calls it in
 * errfinish() for every report it makes, before an ERROR unwinds to
 * whatever catches it (or one exit_on_error raised as FATAL ends the
 * process), in a memory context of its own, reset after each report.
 */
static MemoryContext bh_watch_cxt = NULL;

static void
bh_error_watch(void *arg)
{
	MemoryContext old = MemoryContextSwitchTo(bh_watch_cxt);

	bh_failure_report_seen();
	MemoryContextSwitchTo(old);
	MemoryContextReset(bh_watch_cxt);
}

static ErrorContextCallback bh_error_watch_frame = {NULL, bh_error_watch, NULL};

/*
 * Put the error watch at the bottom of this session's error context stack,
 * unless it is there.  Called at the start of a session, at every
 * statement's parse analysis and first name lookup, at the start of every
 * execution and utility statement and at the end of every transaction and
 * rolled-back subtransaction: PostgreSQL empties the stack when it recovers
 * from an error, and the next statement passes one of these before it can
 * fail.  A PG_TRY block restores at its end the stack it found, so a watch
 * put back inside one (the executor's, the utility hook's, PortalRun's)
 * is gone again after it: parse analysis and the abort callbacks of
 * PostgreSQL's recovery run outside any, and keep it up to the commit.
 * Frames pushed later restore their predecessor when they pop, so the
 * watch stays below them; it is static, so no frame can outlive it.
 */
void
bh_error_watch_put_back(void)
{
	ErrorContextCallback **link = &error_context_stack;

	while (*link != NULL)
	{
		if (*link == &bh_error_watch_frame)
			return;
		link = &(*link)->previous;
	}
	if (bh_watch_cxt == NULL)
		bh_watch_cxt = AllocSetContextCreate(TopMemoryContext, "bh_audit error watch",
											 ALLOCSET_SMALL_SIZES);
	bh_error_watch_frame.previous = NULL;
	*link = &bh_error_watch_frame;
}

/*
 * Whether no error context is pushed but the watch: nothing runs inside a
 * function of a procedural or SQL language, SPI, COPY or anything else
 * that names itself in an error's context.  PostgreSQL's own code pushes
 * none while it executes the statement a client sent (context.c tells a
 * call made directly by that statement from one made inside a function
 * with it).
 */
bool
bh_error_context_bare(void)
{
	ErrorContextCallback *frame = error_context_stack;

	/*
	 * the Execute message of the extended protocol names its portal's
	 * parameters
	 */
	if (frame != NULL && frame->callback == ParamsErrorCallback)
		frame = frame->previous;
	if (frame == &bh_error_watch_frame)
		frame = frame->previous;
	if (frame != NULL && frame->callback == ParamsErrorCallback)
		frame = frame->previous;
	return frame == NULL;
}

/* The innermost error context frame, the watch aside (NULL: none). */
const ErrorContextCallback *
bh_error_context_top(void)
{
	const ErrorContextCallback *frame = error_context_stack;

	return frame == &bh_error_watch_frame ? NULL : frame;
}

/* Mark the frame (NULL: none) as it is now. */
static void
bh_context_mark_frame(BhContextMark *mark, const ErrorContextCallback *frame)
{
	mark->frame = (frame == &bh_error_watch_frame) ? NULL : frame;
	mark->callback = mark->frame ? mark->frame->callback : NULL;
	mark->arg = mark->frame ? mark->frame->arg : NULL;
}

/* Mark the innermost error context frame (see BhContextMark). */
void
bh_context_mark(BhContextMark *mark)
{
	bh_context_mark_frame(mark, bh_error_context_top());
}

/*
 * Mark the frame under the innermost one (the watch aside): the frame of
 * the code that runs a statement through SPI, while SPI's own frame, the
 * innermost, names the statement (a PL/pgSQL function's frame, under the
 * "SQL statement" line of the query it runs).  Once SPI has returned, it
 * is the innermost (bh_context_mark_is_top).
 */
void
bh_context_mark_caller(BhContextMark *mark)
{
	const ErrorContextCallback *top = bh_error_context_top();

	bh_context_mark_frame(mark, top ? top->previous : NULL);
}

/* Is the frame marked (one) the innermost one still? */
bool
bh_context_mark_is_top(const BhContextMark *mark)
{
	const ErrorContextCallback *top = bh_error_context_top();

	return mark->frame != NULL && top == mark->frame &&
		top->callback == mark->callback && top->arg == mark->arg;
}

/*
 * Is the frame marked (one) on the error context stack still, under the
 * innermost frame (under_top: not that one itself)?
 */
bool
bh_context_mark_on_stack(const BhContextMark *mark, bool under_top)
{
	const ErrorContextCallback *frame = bh_error_context_top();

	if (mark->frame == NULL || frame == NULL)
		return false;
	if (under_top)
		frame = frame->previous;
	for (; frame != NULL; frame = frame->previous)
		if (frame == mark->frame)
			return frame->callback == mark->callback && frame->arg == mark->arg;
	return false;
}

/*
 * Has exactly one error context frame been pushed since the stack's top
 * was since (the watch, put back at the bottom meanwhile, aside)?
 */
bool
bh_error_context_one_since(const ErrorContextCallback *since)
{
	const ErrorContextCallback *frame = error_context_stack;

	if (frame == NULL || frame == since || frame == &bh_error_watch_frame)
		return false;
	frame = frame->previous;
	if (frame == &bh_error_watch_frame && since != &bh_error_watch_frame)
		frame = frame->previous;
	return frame == since;
}
