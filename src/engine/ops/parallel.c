/* parallel.c: a small work-sharing runner for the kernels.
 *
 * Items are handed out from a shared counter to up to
 * lens_get_threads () threads (the caller and the runner's own helper
 * threads), so a busy core does not hold the others up.  A pass through
 * a network is a few dozen such jobs back to back, each a millisecond or
 * less: a helper that went to sleep after one job takes 10 us or more
 * (much more on a loaded machine) to wake for the next, so helpers first
 * watch for new work for a short while (LENS_SPIN_US, default 100 us)
 * and only then sleep on a condition.  The spin is bounded and runs at
 * the asking thread's priority, and OpenBLAS's own idle threads no
 * longer spin (lens-blas.c), so the two never keep each other from the
 * cores for long.  Helpers run at the priority of the thread that asked
 * (the window lowers its engine thread's).
 *
 * Several threads may run jobs at once (an occlusion sweep's workers):
 * jobs wait in a list, helpers join the first that wants more, and a
 * caller takes its job off the list once its own share is done, then
 * waits only for the helpers that joined. */
#define G_LOG_DOMAIN "parallel"

#include "parallel.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>

#include "lens-platform.h"

#define MAX_HELPERS 63
#define SPIN_US_DEFAULT 100

typedef struct _Job Job;
struct _Job
{
  LensItemFunc func;
  gpointer     data;
  gint64       n_items;
  gssize       next;       /* atomic: the next item to take */
  /* under lock */
  int          want;       /* helpers the job can use */
  int          joined;     /* helpers that came */
  int          active;     /* helpers still working on it */
  int          nice;       /* of the thread that asked */
  Job         *link;       /* the list of open jobs */
};

/* pthread's own (GLib's GMutex is raw futexes, which ThreadSanitizer
 * cannot see) */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  wake = PTHREAD_COND_INITIALIZER;      /* helpers: new work */
static pthread_cond_t  finished = PTHREAD_COND_INITIALIZER;  /* callers: helpers left a job */
static Job            *jobs;           /* under lock */
static int             n_helpers;      /* under lock */
static int             sleepers;       /* under lock */
static gint            posted;         /* atomic, changed under lock: counts posted jobs */

/* Linux keeps a nice value per thread.  A helper is started by whichever
 * thread first needed it and serves every thread after, so it would not
 * have a lowered priority: each helper takes the asking thread's before
 * it works.  The value is cached per thread (nobody else changes it);
 * without privilege a thread can only lower its priority, and a failed
 * raise is left be. */
#define NICE_UNKNOWN (-1000)

static __thread int thread_nice = NICE_UNKNOWN;

static int
current_nice (void)
{
  if (thread_nice == NICE_UNKNOWN)
    thread_nice = lens_thread_get_nice ();
  return thread_nice;
}

static void
follow_nice (int nice)
{
  if (nice != current_nice () && lens_thread_set_nice (nice))
    thread_nice = nice;
}

static void
job_work (Job *job)
{
  for (;;)
    {
      gssize i = g_atomic_pointer_add (&job->next, 1);

      if (i >= job->n_items)
        break;
      job->func (job->data, i);
    }
}

static int
spin_us (void)
{
  static gint value = -1;
  int v = g_atomic_int_get (&value);

  if (v < 0)
    {
      const char *env = g_getenv ("LENS_SPIN_US");

      v = env != NULL ? CLAMP (atoi (env), 0, 100000) : SPIN_US_DEFAULT;
      g_atomic_int_set (&value, v);
    }
  return v;
}

/* Whether a job was posted since `seen`, watching for up to us
 * microseconds. */
static gboolean
watch (int seen,
       int us)
{
  gint64 until = g_get_monotonic_time () + us;

  do
    {
      for (int i = 0; i < 64; i++)
        {
          if (g_atomic_int_get (&posted) != seen)
            return TRUE;
          _mm_pause ();
        }
    }
  while (g_get_monotonic_time () < until);
  return FALSE;
}

/* A helper's life: join any job that wants more helpers, else watch for
 * a new one, else sleep until one is posted. */
static gpointer
helper_main (gpointer unused)
{
  pthread_mutex_lock (&lock);
  for (;;)
    {
      Job *job = jobs;
      int seen;

      while (job != NULL && job->joined >= job->want)
        job = job->link;
      if (job != NULL)
        {
          job->joined++;
          job->active++;
          pthread_mutex_unlock (&lock);
          follow_nice (job->nice);
          job_work (job);
          pthread_mutex_lock (&lock);
          if (--job->active == 0)
            pthread_cond_broadcast (&finished);
          continue;
        }
      /* nothing to join: watch for a while, then sleep */
      seen = g_atomic_int_get (&posted);
      pthread_mutex_unlock (&lock);
      if (watch (seen, spin_us ()))
        {
          pthread_mutex_lock (&lock);
          continue;
        }
      pthread_mutex_lock (&lock);
      sleepers++;
      while (g_atomic_int_get (&posted) == seen)
        pthread_cond_wait (&wake, &lock);
      sleepers--;
    }
  return NULL;
}

void
lens_parallel_run (LensItemFunc func,
                   gpointer     data,
                   int64_t      n_items)
{
  lens_parallel_run_n (func, data, n_items, 0);
}

void
lens_parallel_run_n (LensItemFunc func,
                     gpointer     data,
                     int64_t      n_items,
                     int          want)
{
  int threads = (int) MIN ((int64_t) (want > 0 ? want : lens_get_threads ()), n_items);
  Job job = { func, data, n_items, 0 };
  Job **at;

  if (threads <= 1)
    {
      for (int64_t i = 0; i < n_items; i++)
        func (data, i);
      return;
    }
  job.want = threads - 1;
  job.nice = current_nice ();
  pthread_mutex_lock (&lock);
  while (n_helpers < MIN (threads - 1, MAX_HELPERS))
    {
      GThread *thread = g_thread_try_new ("pool-kernels", helper_main, NULL, NULL);

      if (thread == NULL)
        break;   /* fewer helpers: the caller does more itself */
      g_thread_unref (thread);
      n_helpers++;
    }
  /* at the end of the list: earlier jobs get their helpers first */
  for (at = &jobs; *at != NULL; at = &(*at)->link)
    ;
  *at = &job;
  g_atomic_int_inc (&posted);
  if (sleepers > 0)
    pthread_cond_broadcast (&wake);
  pthread_mutex_unlock (&lock);

  job_work (&job);

  /* every item is taken: no helper may join any more; wait for those
   * still working */
  pthread_mutex_lock (&lock);
  for (at = &jobs; *at != &job; at = &(*at)->link)
    ;
  *at = job.link;
  while (job.active > 0)
    pthread_cond_wait (&finished, &lock);
  pthread_mutex_unlock (&lock);
}
