/* test-npy.c: .npy reading and writing, against files numpy writes and reads */
#include <math.h>
#include <string.h>

#include "lens-npy.h"
#include "unit-util.h"

static char *tmpdir;
static char *fixtures;   /* written by numpy, NULL if numpy is missing */

static float
expected_4d (int i)
{
  /* make-fixtures.py: (arange(60) % 7) * 0.25 - 0.5 */
  return (i % 7) * 0.25f - 0.5f;
}

static gboolean
have_fixtures (void)
{
  if (fixtures == NULL)
    {
      g_test_skip ("numpy fixtures unavailable");
      return FALSE;
    }
  return TRUE;
}

static LensTensor *
load_fixture (const char *name,
              GError    **error)
{
  g_autofree char *path = g_build_filename (fixtures, name, NULL);

  return lens_npy_load (path, error);
}

static void
assert_shape (const LensTensor *t,
              int               ndim,
              ...)
{
  va_list args;

  g_assert_cmpint (t->shape.ndim, ==, ndim);
  va_start (args, ndim);
  for (int i = 0; i < ndim; i++)
    g_assert_cmpint (t->shape.dims[i], ==, va_arg (args, int));
  va_end (args);
}

/* Files written by numpy */

static void
test_numpy_f4 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTensor) t = NULL;
  const float expect[6] = { -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f };

  if (!have_fixtures ())
    return;
  t = load_fixture ("f4_2x3.npy", &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->dtype, ==, LENS_DTYPE_FLOAT32);
  assert_shape (t, 2, 2, 3);
  g_assert_cmpmem (lens_tensor_get_floats (t), sizeof expect, expect, sizeof expect);
}

static void
test_numpy_f8 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTensor) t = NULL;
  const float *v;

  if (!have_fixtures ())
    return;
  t = load_fixture ("f8_3.npy", &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->dtype, ==, LENS_DTYPE_FLOAT32);
  assert_shape (t, 1, 3);
  v = lens_tensor_get_floats (t);
  g_assert_cmpfloat (v[0], ==, 1.5f);
  g_assert_cmpfloat (v[1], ==, -2.25f);
  g_assert_cmpfloat (v[2], ==, (float) 1e-3);
}

static void
test_numpy_i8 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTensor) t = NULL;
  const int64_t expect[4] = { 1, -2, G_GINT64_CONSTANT (1) << 40, 0 };

  if (!have_fixtures ())
    return;
  t = load_fixture ("i8_4.npy", &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->dtype, ==, LENS_DTYPE_INT64);
  assert_shape (t, 1, 4);
  g_assert_cmpmem (lens_tensor_get_int64s (t), sizeof expect, expect, sizeof expect);
}

static void
test_numpy_scalar_and_empty (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTensor) s = NULL;
  g_autoptr(LensTensor) e = NULL;

  if (!have_fixtures ())
    return;
  s = load_fixture ("scalar.npy", &error);
  g_assert_no_error (error);
  assert_shape (s, 0);
  g_assert_cmpfloat (lens_tensor_get_floats (s)[0], ==, 3.25f);

  e = load_fixture ("empty.npy", &error);
  g_assert_no_error (error);
  assert_shape (e, 2, 0, 5);
  g_assert_cmpuint (lens_tensor_numel (e), ==, 0);
}

static void
test_numpy_versions (void)
{
  const char *names[] = { "4d.npy", "v2.npy", "v3.npy" };

  if (!have_fixtures ())
    return;
  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LensTensor) t = load_fixture (names[k], &error);
      const float *v;

      g_assert_no_error (error);
      assert_shape (t, 4, 1, 3, 4, 5);
      v = lens_tensor_get_floats (t);
      for (int i = 0; i < 60; i++)
        g_assert_cmpfloat (v[i], ==, expected_4d (i));
    }
}

static void
test_numpy_unsupported (void)
{
  const char *names[] = { "fortran.npy", "be.npy", "f2.npy", "dims9.npy", "structured.npy" };

  if (!have_fixtures ())
    return;
  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LensTensor) t = load_fixture (names[k], &error);

      g_assert_null (t);
      g_assert_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, names[k]));
    }
}

/* Round trips, and numpy reading what we write */

static void
test_round_trip (void)
{
  LensShape shape = lens_shape_4d (2, 3, 4, 5);
  g_autoptr(LensTensor) t = lens_tensor_new_float (&shape, NULL);
  g_autoptr(LensTensor) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (tmpdir, "rt.npy", NULL);
  g_autofree char *contents = NULL;
  float *v = lens_tensor_get_floats (t);
  gsize length;

  for (int i = 0; i < 120; i++)
    v[i] = sinf (i * 0.37f) * 1e3f;
  v[7] = -0.0f;
  v[8] = INFINITY;
  g_assert_true (lens_npy_save (path, t, &error));
  g_assert_no_error (error);

  /* numpy's layout: 10-byte preamble + header padded so data is 64-aligned */
  g_file_get_contents (path, &contents, &length, NULL);
  g_assert_cmpuint (length, ==, 128 + 120 * 4);
  g_assert_cmpmem (contents, 8, "\x93NUMPY\x01\x00", 8);
  g_assert_true (g_str_has_prefix (contents + 10,
                                   "{'descr': '<f4', 'fortran_order': False, "
                                   "'shape': (2, 3, 4, 5), }"));
  g_assert_cmpint (contents[127], ==, '\n');

  back = lens_npy_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (lens_shape_equal (&back->shape, &t->shape));
  g_assert_cmpmem (lens_tensor_get_floats (back), 480, v, 480);
}

static void
test_round_trip_int64_and_scalar (void)
{
  int64_t dims1[1] = { 3 };
  LensShape s1 = lens_shape_make (1, dims1);
  LensShape s0 = lens_shape_make (0, NULL);
  g_autoptr(LensTensor) ti = lens_tensor_new (LENS_DTYPE_INT64, &s1, NULL);
  g_autoptr(LensTensor) ts = lens_tensor_new_float (&s0, NULL);
  g_autoptr(LensTensor) bi = NULL;
  g_autoptr(LensTensor) bs = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *pi = g_build_filename (tmpdir, "i.npy", NULL);
  g_autofree char *ps = g_build_filename (tmpdir, "s.npy", NULL);
  g_autofree char *contents = NULL;

  lens_tensor_get_int64s (ti)[0] = -5;
  lens_tensor_get_int64s (ti)[1] = G_MAXINT64;
  lens_tensor_get_int64s (ti)[2] = 1;
  lens_tensor_get_floats (ts)[0] = 2.5f;
  g_assert_true (lens_npy_save (pi, ti, &error));
  g_assert_true (lens_npy_save (ps, ts, &error));
  g_assert_no_error (error);

  g_file_get_contents (pi, &contents, NULL, NULL);
  g_assert_true (g_str_has_prefix (contents + 10, "{'descr': '<i8', 'fortran_order': False, "
                                   "'shape': (3,), }"));
  bi = lens_npy_load (pi, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bi->dtype, ==, LENS_DTYPE_INT64);
  g_assert_cmpmem (lens_tensor_get_int64s (bi), 24, lens_tensor_get_int64s (ti), 24);
  bs = lens_npy_load (ps, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bs->shape.ndim, ==, 0);
  g_assert_cmpfloat (lens_tensor_get_floats (bs)[0], ==, 2.5f);
}

static void
test_numpy_reads_ours (void)
{
  int64_t dims[3] = { 2, 1, 3 };
  LensShape shape = lens_shape_make (3, dims);
  g_autoptr(LensTensor) t = lens_tensor_new_float (&shape, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (tmpdir, "for-numpy.npy", NULL);
  g_autofree char *out = NULL;
  float *v = lens_tensor_get_floats (t);
  static const float values[6] = { 0.5f, -1.25f, 3e-8f, 1e30f, 7.0f, -0.0f };

  memcpy (v, values, sizeof values);
  g_assert_true (lens_npy_save (path, t, &error));
  if (!unit_run_fixtures ("describe", path, &out))
    return;
  g_strstrip (out);
  g_assert_cmpstr (out, ==, "float32 2,1,3 0.5 -1.25 2.999999892949745e-08 1.0000000150474662e+30 "
                            "7.0 -0.0");
}

/* Hand-made bad files */

static char *
npy_v1 (const char *dict,
        gsize       data_bytes,
        gsize      *length)
{
  gsize hl = strlen (dict);
  char *buf = g_malloc0 (10 + hl + data_bytes);

  memcpy (buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = hl & 0xff;
  buf[9] = hl >> 8;
  memcpy (buf + 10, dict, hl);
  *length = 10 + hl + data_bytes;
  return buf;
}

typedef struct
{
  const char *dict;
  gsize       data_bytes;
  int         code;      /* -1: loads fine */
} HeaderCase;

static void
test_headers (void)
{
  static const HeaderCase cases[] = {
    /* accepted variants */
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 24, -1 },
    { "{\"shape\": (2,3), \"descr\": \"<f4\", \"fortran_order\": False}", 24, -1 },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }   \n", 24, -1 },
    { "  { 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 6 , ) }  ", 24, -1 },
    /* size mismatches */
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 20, LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 28, LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", 24, LENS_NPY_ERROR_FORMAT },
    /* overflow */
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0,
      LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", 0,
      LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", 0,
      LENS_NPY_ERROR_FORMAT },
    /* malformed dicts */
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 0, LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False}", 0, LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'shape': (0,)}", 0, LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), 'extra': 1}", 0,
      LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (0,)}", 0,
      LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': maybe, 'shape': (0,)}", 0, LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': [0]}", 0, LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (0,)} x", 0, LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (0,", 0, LENS_NPY_ERROR_FORMAT },
    { "{'descr: '<f4', 'fortran_order': False, 'shape': (0,)}", 0, LENS_NPY_ERROR_FORMAT },
    { "{'descr': <f4, 'fortran_order': False, 'shape': (0,)}", 0, LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4' 'fortran_order': False, 'shape': (0,)}", 0, LENS_NPY_ERROR_FORMAT },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", 0, LENS_NPY_ERROR_FORMAT },
    { "", 0, LENS_NPY_ERROR_FORMAT },
    /* valid but not for us */
    { "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", 3, LENS_NPY_ERROR_UNSUPPORTED },
    { "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24,
      LENS_NPY_ERROR_UNSUPPORTED },
    { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4,
      LENS_NPY_ERROR_UNSUPPORTED },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LensTensor) t = NULL;
      g_autofree char *buf = NULL;
      gsize length;

      buf = npy_v1 (cases[k].dict, cases[k].data_bytes, &length);
      t = lens_npy_load_data ((const guint8 *) buf, length, "case.npy", &error);
      if (cases[k].code < 0)
        {
          if (error != NULL)
            g_error ("case %u (%s): %s", k, cases[k].dict, error->message);
          g_assert_cmpuint (lens_tensor_numel (t), ==, 6);
        }
      else
        {
          if (t != NULL || error == NULL || error->domain != LENS_NPY_ERROR ||
              error->code != cases[k].code)
            g_error ("case %u (%s): expected error code %d, got %s", k, cases[k].dict,
                     cases[k].code, error ? error->message : "success");
          g_assert_nonnull (strstr (error->message, "case.npy"));
        }
    }
}

static void
test_preamble (void)
{
  g_autoptr(GError) error = NULL;
  gsize length;
  g_autofree char *good = npy_v1 ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4,
                                  &length);
  g_autofree char *copy = g_memdup2 (good, length);
  LensTensor *t;

  /* the file is fine as it is */
  t = lens_npy_load_data ((guint8 *) good, length, "ok.npy", &error);
  g_assert_no_error (error);
  lens_tensor_free (t);

  /* bad magic */
  copy[1] = 'X';
  g_assert_null (lens_npy_load_data ((guint8 *) copy, length, "m.npy", &error));
  g_assert_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT);
  g_clear_error (&error);

  /* unknown version 4.0 */
  memcpy (copy, good, length);
  copy[6] = 4;
  g_assert_null (lens_npy_load_data ((guint8 *) copy, length, "v.npy", &error));
  g_assert_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* header length beyond the end of the file */
  memcpy (copy, good, length);
  copy[9] = 0x7f;
  g_assert_null (lens_npy_load_data ((guint8 *) copy, length, "h.npy", &error));
  g_assert_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT);
  g_clear_error (&error);

  /* version 2 with its 4-byte length cut off */
  memcpy (copy, good, length);
  copy[6] = 2;
  g_assert_null (lens_npy_load_data ((guint8 *) copy, 11, "t.npy", &error));
  g_assert_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT);
  g_clear_error (&error);

  /* too short for a preamble, and empty */
  g_assert_null (lens_npy_load_data ((guint8 *) good, 8, "s.npy", &error));
  g_assert_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_null (lens_npy_load_data ((guint8 *) "", 0, "e.npy", &error));
  g_assert_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT);
}

static void
test_io_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (tmpdir, "missing.npy", NULL);
  g_autofree char *bad_dir = g_build_filename (tmpdir, "no-dir", "x.npy", NULL);
  g_autofree char *empty = unit_write_file (tmpdir, "empty-file.npy", "", 0);
  LensShape shape = lens_shape_4d (1, 1, 1, 1);
  g_autoptr(LensTensor) t = lens_tensor_new_float (&shape, NULL);

  g_assert_null (lens_npy_load (missing, &error));
  g_assert_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "missing.npy"));
  g_clear_error (&error);

  g_assert_null (lens_npy_load (empty, &error));
  g_assert_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT);
  g_clear_error (&error);

  g_assert_false (lens_npy_save (bad_dir, t, &error));
  g_assert_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "no-dir"));
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = unit_make_tmpdir ();

  /* numpy's files are made once, before the tests run */
  {
    g_autofree char *dir = g_build_filename (tmpdir, "numpy", NULL);
    g_autofree char *script = g_build_filename (UNIT_SRCDIR, "make-fixtures.py", NULL);
    const char *argv_py[] = { UNIT_PYTHON, script, "npy", dir, NULL };
    int status = -1;

    g_mkdir_with_parents (dir, 0755);
    if (g_file_test (UNIT_PYTHON, G_FILE_TEST_IS_EXECUTABLE) &&
        g_spawn_sync (NULL, (char **) argv_py, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                      G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL) &&
        g_spawn_check_wait_status (status, NULL))
      fixtures = g_steal_pointer (&dir);
  }

  g_test_add_func ("/npy/numpy/f4", test_numpy_f4);
  g_test_add_func ("/npy/numpy/f8", test_numpy_f8);
  g_test_add_func ("/npy/numpy/i8", test_numpy_i8);
  g_test_add_func ("/npy/numpy/scalar-and-empty", test_numpy_scalar_and_empty);
  g_test_add_func ("/npy/numpy/versions", test_numpy_versions);
  g_test_add_func ("/npy/numpy/unsupported", test_numpy_unsupported);
  g_test_add_func ("/npy/round-trip/float", test_round_trip);
  g_test_add_func ("/npy/round-trip/int64-scalar", test_round_trip_int64_and_scalar);
  g_test_add_func ("/npy/round-trip/numpy-reads", test_numpy_reads_ours);
  g_test_add_func ("/npy/bad/headers", test_headers);
  g_test_add_func ("/npy/bad/preamble", test_preamble);
  g_test_add_func ("/npy/bad/io", test_io_errors);

  ret = g_test_run ();
  unit_rm_rf (tmpdir);
  g_free (tmpdir);
  g_free (fixtures);
  return ret;
}
