/* lens-npy.c: reading and writing NumPy .npy files
 *
 * The header is a Python dict literal, e.g.
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * It is parsed here by a small recursive-descent reader that accepts what
 * numpy (any version, including Python 2's "3L" integers) writes and
 * rejects everything else with an error naming the file.
 */
#define G_LOG_DOMAIN "lens-npy"

#include "lens-npy.h"
#include "lens-file.h"

#include <string.h>

G_DEFINE_QUARK (lens-npy-error-quark, lens_npy_error)

static const char npy_magic[6] = { '\x93', 'N', 'U', 'M', 'P', 'Y' };

typedef enum
{
  NPY_F4,
  NPY_F8,
  NPY_I8,
} NpyType;

typedef struct
{
  const char *p;
  const char *end;
  const char *name;
  GError    **error;
} Parser;

typedef struct
{
  gboolean  have_descr, have_order, have_shape;
  char     *descr;
  gboolean  fortran_order;
  LensShape shape;
} Header;

static gboolean G_GNUC_PRINTF (2, 3)
parse_fail (Parser     *ps,
            const char *format,
            ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (ps->error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT,
               "“%s”: malformed .npy header: %s", ps->name, msg);
  return FALSE;
}

static void
skip_ws (Parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static gboolean
accept (Parser *ps,
        char    c)
{
  skip_ws (ps);
  if (ps->p < ps->end && *ps->p == c)
    {
      ps->p++;
      return TRUE;
    }
  return FALSE;
}

static gboolean
accept_word (Parser     *ps,
             const char *word)
{
  gsize n = strlen (word);

  skip_ws (ps);
  if ((gsize) (ps->end - ps->p) >= n && memcmp (ps->p, word, n) == 0)
    {
      ps->p += n;
      return TRUE;
    }
  return FALSE;
}

/* A quoted string without escapes. */
static gboolean
parse_string (Parser *ps,
              char  **out)
{
  const char *start;
  char quote;

  skip_ws (ps);
  if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
    return parse_fail (ps, "expected a quoted string");
  quote = *ps->p++;
  start = ps->p;
  while (ps->p < ps->end && *ps->p != quote)
    {
      if (*ps->p == '\\' || *ps->p == '\n')
        return parse_fail (ps, "unexpected character in a string");
      ps->p++;
    }
  if (ps->p >= ps->end)
    return parse_fail (ps, "unterminated string");
  *out = g_strndup (start, ps->p - start);
  ps->p++;
  return TRUE;
}

static gboolean
parse_dim (Parser  *ps,
           int64_t *out)
{
  int64_t v = 0;
  gboolean any = FALSE;

  skip_ws (ps);
  while (ps->p < ps->end && g_ascii_isdigit (*ps->p))
    {
      int d = *ps->p - '0';

      if (v > (G_MAXINT64 - d) / 10)
        return parse_fail (ps, "dimension too large");
      v = v * 10 + d;
      any = TRUE;
      ps->p++;
    }
  if (!any)
    return parse_fail (ps, "expected a non-negative integer in the shape");
  /* Python 2 long literal */
  if (ps->p < ps->end && (*ps->p == 'L' || *ps->p == 'l'))
    ps->p++;
  *out = v;
  return TRUE;
}

static gboolean
parse_shape (Parser    *ps,
             LensShape *shape)
{
  int64_t dims[LENS_MAX_DIMS];
  int n = 0;

  if (!accept (ps, '('))
    return parse_fail (ps, "'shape' must be a tuple");
  while (!accept (ps, ')'))
    {
      int64_t d = 0;

      if (!parse_dim (ps, &d))
        return FALSE;
      if (n == LENS_MAX_DIMS)
        {
          g_set_error (ps->error, LENS_NPY_ERROR, LENS_NPY_ERROR_UNSUPPORTED,
                       "“%s” has more than %d dimensions", ps->name, LENS_MAX_DIMS);
          return FALSE;
        }
      dims[n++] = d;
      if (!accept (ps, ','))
        {
          if (!accept (ps, ')'))
            return parse_fail (ps, "expected ',' or ')' in the shape");
          break;
        }
    }
  *shape = lens_shape_make (n, dims);
  return TRUE;
}

static gboolean
parse_header (Parser *ps,
              Header *h)
{
  if (!accept (ps, '{'))
    return parse_fail (ps, "expected '{'");

  while (!accept (ps, '}'))
    {
      g_autofree char *key = NULL;

      if (!parse_string (ps, &key))
        return FALSE;
      if (!accept (ps, ':'))
        return parse_fail (ps, "expected ':' after '%s'", key);

      if (g_str_equal (key, "descr"))
        {
          if (h->have_descr)
            return parse_fail (ps, "duplicate key 'descr'");
          skip_ws (ps);
          if (ps->p < ps->end && *ps->p == '[')
            {
              g_set_error (ps->error, LENS_NPY_ERROR, LENS_NPY_ERROR_UNSUPPORTED,
                           "“%s” holds a structured array; only plain float arrays are read",
                           ps->name);
              return FALSE;
            }
          if (!parse_string (ps, &h->descr))
            return FALSE;
          h->have_descr = TRUE;
        }
      else if (g_str_equal (key, "fortran_order"))
        {
          if (h->have_order)
            return parse_fail (ps, "duplicate key 'fortran_order'");
          if (accept_word (ps, "True"))
            h->fortran_order = TRUE;
          else if (accept_word (ps, "False"))
            h->fortran_order = FALSE;
          else
            return parse_fail (ps, "'fortran_order' must be True or False");
          h->have_order = TRUE;
        }
      else if (g_str_equal (key, "shape"))
        {
          if (h->have_shape)
            return parse_fail (ps, "duplicate key 'shape'");
          if (!parse_shape (ps, &h->shape))
            return FALSE;
          h->have_shape = TRUE;
        }
      else
        {
          return parse_fail (ps, "unknown key '%s'", key);
        }

      if (!accept (ps, ','))
        {
          if (!accept (ps, '}'))
            return parse_fail (ps, "expected ',' or '}'");
          break;
        }
    }

  skip_ws (ps);
  if (ps->p != ps->end)
    return parse_fail (ps, "unexpected text after the dict");
  if (!h->have_descr || !h->have_order || !h->have_shape)
    return parse_fail (ps, "missing key '%s'",
                       !h->have_descr ? "descr" : !h->have_order ? "fortran_order" : "shape");
  return TRUE;
}

LensTensor *
lens_npy_load_data (const guint8 *data,
                    gsize         length,
                    const char   *name,
                    GError      **error)
{
  Header header = { 0 };
  g_autofree char *descr = NULL;
  g_autoptr(LensTensor) tensor = NULL;
  Parser ps;
  gsize header_len, offset, numel, nbytes, itemsize;
  NpyType type;
  int major, minor;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (name == NULL)
    name = "array";

  if (length < 10 || memcmp (data, npy_magic, sizeof npy_magic) != 0)
    {
      g_set_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT,
                   "“%s” is not a .npy file", name);
      return NULL;
    }
  major = data[6];
  minor = data[7];
  if (major == 1 && minor == 0)
    {
      header_len = data[8] | (data[9] << 8);
      offset = 10;
    }
  else if ((major == 2 || major == 3) && minor == 0)
    {
      if (length < 12)
        {
          g_set_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT,
                       "“%s” is truncated inside the .npy preamble", name);
          return NULL;
        }
      header_len = (gsize) data[8] | ((gsize) data[9] << 8) | ((gsize) data[10] << 16) |
                   ((gsize) data[11] << 24);
      offset = 12;
    }
  else
    {
      g_set_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_UNSUPPORTED,
                   "“%s” is .npy format version %d.%d; versions 1.0, 2.0 and 3.0 are read",
                   name, major, minor);
      return NULL;
    }
  if (header_len > length - offset)
    {
      g_set_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT,
                   "“%s” is truncated: its header needs %" G_GSIZE_FORMAT " bytes, the file has %"
                   G_GSIZE_FORMAT, name, offset + header_len, length);
      return NULL;
    }

  ps.p = (const char *) data + offset;
  ps.end = ps.p + header_len;
  ps.name = name;
  ps.error = error;
  offset += header_len;
  if (!parse_header (&ps, &header))
    {
      g_free (header.descr);
      return NULL;
    }
  descr = g_steal_pointer (&header.descr);

  if (g_str_equal (descr, "<f4"))
    type = NPY_F4, itemsize = 4;
  else if (g_str_equal (descr, "<f8"))
    type = NPY_F8, itemsize = 8;
  else if (g_str_equal (descr, "<i8"))
    type = NPY_I8, itemsize = 8;
  else
    {
      g_set_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_UNSUPPORTED,
                   "“%s” has dtype '%s'; only '<f4', '<f8' and '<i8' are read", name, descr);
      return NULL;
    }
  if (header.fortran_order)
    {
      g_set_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_UNSUPPORTED,
                   "“%s” is in Fortran order; only C order is read", name);
      return NULL;
    }
  if (!lens_shape_numel_checked (&header.shape, &numel) ||
      !lens_size_mul (numel, itemsize, &nbytes))
    {
      g_autofree char *s = lens_shape_to_string (&header.shape);
      g_set_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT,
                   "“%s”: shape %s is too large", name, s);
      return NULL;
    }
  if (nbytes != length - offset)
    {
      g_autofree char *s = lens_shape_to_string (&header.shape);
      g_set_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_FORMAT,
                   "“%s”: shape %s of '%s' needs %" G_GSIZE_FORMAT " data bytes, the file has %"
                   G_GSIZE_FORMAT, name, s, descr, nbytes, length - offset);
      return NULL;
    }

  tensor = lens_tensor_new (type == NPY_I8 ? LENS_DTYPE_INT64 : LENS_DTYPE_FLOAT32,
                            &header.shape, error);
  if (tensor == NULL)
    return NULL;

  data += offset;
  switch (type)
    {
    case NPY_F4:
      {
        float *out = lens_tensor_get_floats (tensor);

        for (gsize i = 0; i < numel; i++)
          {
            guint32 bits;

            memcpy (&bits, data + i * 4, 4);
            bits = GUINT32_FROM_LE (bits);
            memcpy (&out[i], &bits, 4);
          }
      }
      break;
    case NPY_F8:
      {
        float *out = lens_tensor_get_floats (tensor);

        for (gsize i = 0; i < numel; i++)
          {
            guint64 bits;
            double v;

            memcpy (&bits, data + i * 8, 8);
            bits = GUINT64_FROM_LE (bits);
            memcpy (&v, &bits, 8);
            out[i] = (float) v;
          }
      }
      break;
    case NPY_I8:
      {
        int64_t *out = lens_tensor_get_int64s (tensor);

        for (gsize i = 0; i < numel; i++)
          {
            guint64 bits;

            memcpy (&bits, data + i * 8, 8);
            bits = GUINT64_FROM_LE (bits);
            memcpy (&out[i], &bits, 8);
          }
      }
      break;
    }
  return g_steal_pointer (&tensor);
}

LensTensor *
lens_npy_load (const char *path,
               GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GMappedFile) file = NULL;
  g_autofree char *display = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  display = g_filename_display_name (path);
  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      g_set_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_IO,
                   "Cannot read “%s”: %s", display, local_error->message);
      return NULL;
    }
  return lens_npy_load_data ((const guint8 *) g_mapped_file_get_contents (file),
                             g_mapped_file_get_length (file), display, error);
}

gboolean
lens_npy_save (const char       *path,
               const LensTensor *tensor,
               GError          **error)
{
  g_autoptr(GString) header = g_string_new (NULL);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display = NULL;
  g_autofree guint8 *buffer = NULL;
  gsize numel, nbytes, total, itemsize;
  gboolean is_int;

  g_return_val_if_fail (path != NULL && tensor != NULL, FALSE);

  display = g_filename_display_name (path);
  is_int = tensor->dtype == LENS_DTYPE_INT64;
  itemsize = is_int ? 8 : 4;

  g_string_append_printf (header, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                          is_int ? "<i8" : "<f4");
  for (int i = 0; i < tensor->shape.ndim; i++)
    g_string_append_printf (header, "%" G_GINT64_FORMAT ",%s", tensor->shape.dims[i],
                            i + 1 < tensor->shape.ndim ? " " : "");
  /* numpy writes (5,) for one dimension and (2, 3) for more */
  if (tensor->shape.ndim > 1)
    g_string_truncate (header, header->len - 1);
  g_string_append (header, "), }");
  /* Pad with spaces and a final newline so the data starts 64-aligned. */
  while ((10 + header->len + 1) % 64 != 0)
    g_string_append_c (header, ' ');
  g_string_append_c (header, '\n');
  g_assert (header->len <= G_MAXUINT16);

  if (!lens_shape_numel_checked (&tensor->shape, &numel) ||
      !lens_size_mul (numel, itemsize, &nbytes) ||
      nbytes > G_MAXSIZE - 10 - header->len ||
      (buffer = g_try_malloc ((total = 10 + header->len + nbytes))) == NULL)
    {
      g_set_error (error, LENS_NPY_ERROR, LENS_NPY_ERROR_IO,
                   "Cannot write “%s”: the tensor is too large", display);
      return FALSE;
    }

  memcpy (buffer, npy_magic, sizeof npy_magic);
  buffer[6] = 1;
  buffer[7] = 0;
  buffer[8] = header->len & 0xff;
  buffer[9] = header->len >> 8;
  memcpy (buffer + 10, header->str, header->len);

  if (is_int)
    {
      const int64_t *in = lens_tensor_get_int64s (tensor);
      guint8 *out = buffer + 10 + header->len;

      for (gsize i = 0; i < numel; i++)
        {
          guint64 bits;

          memcpy (&bits, &in[i], 8);
          bits = GUINT64_TO_LE (bits);
          memcpy (out + i * 8, &bits, 8);
        }
    }
  else
    {
      const float *in = lens_tensor_get_floats (tensor);
      guint8 *out = buffer + 10 + header->len;

      for (gsize i = 0; i < numel; i++)
        {
          guint32 bits;

          memcpy (&bits, &in[i], 4);
          bits = GUINT32_TO_LE (bits);
          memcpy (out + i * 4, &bits, 4);
        }
    }

  if (!lens_file_write_atomic (path, buffer, total, &local_error))
    {
      g_set_error_literal (error, LENS_NPY_ERROR, LENS_NPY_ERROR_IO, local_error->message);
      return FALSE;
    }
  return TRUE;
}
