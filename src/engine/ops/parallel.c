/* parallel.c: a small work-sharing runner for the kernels.
 *
 * Items are handed out from a shared counter to up to
 * lens_get_threads () threads (the caller and GLib pool threads), so a
 * busy core does not hold the others up.  Threads wait on a condition,
 * never spin (OpenBLAS has its own threads on the same two cores), and
 * run at the priority of the thread that asked (the window lowers its
 * engine thread's). */
#define G_LOG_DOMAIN "parallel"

#include "parallel.h"

#include <pthread.h>

#include "lens-platform.h"

typedef struct
{
  LensItemFunc    func;
  gpointer        data;
  gint64          n_items;
  gssize          next;       /* atomic */
  int             pending;    /* helper tasks not finished, under lock */
  /* pthread's own (GLib's GMutex is raw futexes, which ThreadSanitizer
   * cannot see) */
  pthread_mutex_t lock;
  pthread_cond_t  done;
  int             nice;       /* of the thread that runs the job */
} Job;

/* Linux keeps a nice value per thread.  The pool's threads are started by
 * GLib, not by the thread that asks, so they would not inherit a lowered
 * priority: each helper takes the asking thread's before it works.  The
 * value is cached per thread (nobody else changes it); without privilege
 * a thread can only lower its priority, and a failed raise is left be. */
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

static void
helper_func (gpointer task,
             gpointer user_data)
{
  Job *job = task;

  /* The job came through GLib's queue, which ThreadSanitizer cannot see;
   * taking its lock once orders this thread after the fields were set. */
  pthread_mutex_lock (&job->lock);
  pthread_mutex_unlock (&job->lock);
  follow_nice (job->nice);
  job_work (job);
  pthread_mutex_lock (&job->lock);
  if (--job->pending == 0)
    pthread_cond_signal (&job->done);
  pthread_mutex_unlock (&job->lock);
}

static gpointer
pool_new (gpointer data)
{
  int n = MAX (1, (int) g_get_num_processors () - 1);

  return g_thread_pool_new (helper_func, NULL, MAX (n, 7), FALSE, NULL);
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
  static GOnce once = G_ONCE_INIT;
  int threads = (int) MIN ((int64_t) (want > 0 ? want : lens_get_threads ()), n_items);
  GThreadPool *pool;
  Job job = { func, data, n_items, 0, 0 };

  if (threads <= 1 || (pool = g_once (&once, pool_new, NULL)) == NULL)
    {
      for (int64_t i = 0; i < n_items; i++)
        func (data, i);
      return;
    }
  pthread_mutex_init (&job.lock, NULL);
  pthread_cond_init (&job.done, NULL);
  job.nice = current_nice ();
  /* counted before any helper can finish.  A push queues the task even
   * when it fails to start a new thread (the pool's other threads take
   * it), so its result does not change the count. */
  pthread_mutex_lock (&job.lock);
  job.pending = threads - 1;
  pthread_mutex_unlock (&job.lock);
  for (int t = 1; t < threads; t++)
    g_thread_pool_push (pool, &job, NULL);
  job_work (&job);
  pthread_mutex_lock (&job.lock);
  while (job.pending > 0)
    pthread_cond_wait (&job.done, &job.lock);
  pthread_mutex_unlock (&job.lock);
  pthread_mutex_destroy (&job.lock);
  pthread_cond_destroy (&job.done);
}
