/* bb-go-url.c: a port of the parts of Go's net/url that bbsync needs
 *
 * A port, not protocol logic: it only splits URLs and form strings the way url.Parse and
 * url.ParseQuery do, for server origins and invite URIs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-protocol-private.h"
#include "bb-crypto-private.h"

#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* A Go net/url-compatible URL splitter                                                 */

/* The reference client parses server origins and invite URIs with Go's net/url, and what
 * it accepts is part of the protocol: a stricter parser would reject invites that Go
 * apps produce or accept. So this mirrors url.Parse (only the parts bbsync needs). */

typedef enum
{
  ENC_PATH,
  ENC_USER_PASSWORD,
  ENC_QUERY_COMPONENT,
  ENC_FRAGMENT,
  ENC_HOST,
} GoEncoding;

static gboolean
go_should_escape (guchar c, GoEncoding mode)
{
  if (g_ascii_isalnum (c))
    return FALSE;
  if (mode == ENC_HOST)
    {
      switch (c)
        {
          case '!':
          case '$':
          case '&':
          case '\'':
          case '(':
          case ')':
          case '*':
          case '+':
          case ',':
          case ';':
          case '=':
          case ':':
          case '[':
          case ']':
          case '<':
          case '>':
          case '"':
            return FALSE;
          default:
            break;
        }
    }
  switch (c)
    {
      case '-':
      case '_':
      case '.':
      case '~':
        return FALSE;
      case '$':
      case '&':
      case '+':
      case ',':
      case '/':
      case ':':
      case ';':
      case '=':
      case '?':
      case '@':
        switch (mode)
          {
            case ENC_PATH:
              return c == '?';
            case ENC_USER_PASSWORD:
              return c == '@' || c == '/' || c == '?' || c == ':';
            case ENC_QUERY_COMPONENT:
              return TRUE;
            case ENC_FRAGMENT:
              return FALSE;
            case ENC_HOST:
            default:
              break;
          }
        break;
      default:
        break;
    }
  if (mode == ENC_FRAGMENT && (c == '!' || c == '(' || c == ')' || c == '*'))
    return FALSE;
  return TRUE;
}

/* url.unescape: percent-decoding with Go's per-mode rules. Returns NULL on error;
 * the result may contain NUL bytes, so its length is returned too. */
static char *
go_unescape (const char *s, gsize len, GoEncoding mode, gsize *out_len)
{
  GString *out;

  for (gsize i = 0; i < len;)
    {
      if (s[i] == '%')
        {
          if (i + 2 >= len || !g_ascii_isxdigit (s[i + 1]) || !g_ascii_isxdigit (s[i + 2]))
            return NULL;
          /* Hosts may only escape non-ASCII bytes (and "%25" itself). */
          if (mode == ENC_HOST && g_ascii_xdigit_value (s[i + 1]) < 8
              && strncmp (s + i, "%25", 3) != 0)
            return NULL;
          i += 3;
        }
      else
        {
          if (mode == ENC_HOST && (guchar)s[i] < 0x80 && go_should_escape (s[i], mode))
            return NULL;
          i++;
        }
    }

  out = g_string_sized_new (len + 1);
  for (gsize i = 0; i < len;)
    {
      if (s[i] == '%')
        {
          g_string_append_c (
              out, (char)(g_ascii_xdigit_value (s[i + 1]) << 4 | g_ascii_xdigit_value (s[i + 2])));
          i += 3;
        }
      else
        {
          g_string_append_c (out, (mode == ENC_QUERY_COMPONENT && s[i] == '+') ? ' ' : s[i]);
          i++;
        }
    }
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

/* url.escape for the fragment mode only (the one bbsync re-escapes with). The fragment
 * of an invite URI holds its secret: the buffer is sized for the worst case (every byte
 * escaped) so it never reallocates, and no printf scratch copies are made. */
static char *
go_escape_fragment (const char *s, gsize len)
{
  static const char upper_hex[] = "0123456789ABCDEF";
  GString *out = bb_crypto_secret_string_new (3 * len);

  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar)s[i];
      if (go_should_escape (c, ENC_FRAGMENT))
        {
          g_string_append_c (out, '%');
          g_string_append_c (out, upper_hex[c >> 4]);
          g_string_append_c (out, upper_hex[c & 0x0f]);
        }
      else
        g_string_append_c (out, (char)c);
    }
  return g_string_free (out, FALSE);
}

static gboolean
go_valid_encoded_fragment (const char *s)
{
  for (; *s; s++)
    {
      switch (*s)
        {
          case '!':
          case '$':
          case '&':
          case '\'':
          case '(':
          case ')':
          case '*':
          case '+':
          case ',':
          case ';':
          case '=':
          case ':':
          case '@':
          case '[':
          case ']':
          case '%':
            break;
          default:
            if (go_should_escape ((guchar)*s, ENC_FRAGMENT))
              return FALSE;
        }
    }
  return TRUE;
}

gboolean
bb_protocol_url_valid_optional_port (const char *p, gsize len)
{
  if (len == 0)
    return TRUE;
  if (p[0] != ':')
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_isdigit (p[i]))
      return FALSE;
  return TRUE;
}

static gboolean
go_valid_userinfo (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (g_ascii_isalnum (s[i]))
        continue;
      if (strchr ("-._:~!$&'()*+,;=%@", s[i]) == NULL || s[i] == '\0')
        return FALSE;
    }
  return TRUE;
}

static char *
go_parse_host (const char *host, gsize len, char **out_reason)
{
  const char *colon = NULL;
  gsize out_len;
  char *decoded;

  /* Bracketed IP literals: current Go only accepts valid IPv6 addresses there, whose
   * colons no origin or invite authority allows anyway, so they are refused up front. */
  if (len > 0 && host[0] == '[')
    {
      *out_reason = g_strdup ("IP literal hosts are not supported");
      return NULL;
    }
  for (gsize i = 0; i < len; i++)
    if (host[i] == ':')
      colon = host + i;
  if (colon != NULL && !bb_protocol_url_valid_optional_port (colon, len - (gsize)(colon - host)))
    {
      *out_reason = g_strdup ("invalid port after host");
      return NULL;
    }
  decoded = go_unescape (host, len, ENC_HOST, &out_len);
  if (decoded == NULL)
    {
      *out_reason = g_strdup ("invalid character or escape in host");
      return NULL;
    }
  if (strlen (decoded) != out_len)
    {
      g_free (decoded);
      *out_reason = g_strdup ("invalid character or escape in host");
      return NULL;
    }
  return decoded;
}

void
bb_protocol_url_clear (BbProtocolUrl *url)
{
  g_clear_pointer (&url->scheme, g_free);
  g_clear_pointer (&url->host, g_free);
  g_clear_pointer (&url->raw_query, g_free);
  /* An invite URI's fragment is its secret. */
  if (url->escaped_fragment != NULL)
    bb_crypto_wipe (url->escaped_fragment, strlen (url->escaped_fragment));
  g_clear_pointer (&url->escaped_fragment, g_free);
  memset (url, 0, sizeof *url);
}

gboolean
bb_protocol_url_parse (const char *text, BbProtocolUrl *url, char **out_reason)
{
  const char *hash, *rest, *rest_end, *q;
  const char *frag = "";
  gsize scheme_len = 0;
  gsize qcount = 0;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (url != NULL, FALSE);
  g_return_val_if_fail (out_reason != NULL, FALSE);

  memset (url, 0, sizeof *url);

  /* The fragment is cut off first and only percent-checked. */
  hash = strchr (text, '#');
  rest_end = hash ? hash : text + strlen (text);
  if (hash)
    frag = hash + 1;

  for (const char *c = text; c < rest_end; c++)
    if ((guchar)*c < 0x20 || *c == 0x7f)
      {
        *out_reason = g_strdup ("invalid control character in URL");
        return FALSE;
      }

  /* getScheme */
  rest = text;
  for (const char *c = text; c < rest_end; c++)
    {
      if (g_ascii_isalpha (*c))
        continue;
      if (g_ascii_isdigit (*c) || *c == '+' || *c == '-' || *c == '.')
        {
          if (c == text)
            break;
          continue;
        }
      if (*c == ':')
        {
          if (c == text)
            {
              *out_reason = g_strdup ("missing protocol scheme");
              return FALSE;
            }
          scheme_len = (gsize)(c - text);
          rest = c + 1;
        }
      break;
    }
  url->scheme = g_ascii_strdown (text, (gssize)scheme_len);

  /* The query: a lone trailing '?' is dropped ("ForceQuery"), otherwise cut at the
   * first '?'. */
  for (const char *c = rest; c < rest_end; c++)
    if (*c == '?')
      qcount++;
  q = memchr (rest, '?', (gsize)(rest_end - rest));
  if (qcount == 1 && rest_end > rest && rest_end[-1] == '?')
    {
      url->raw_query = g_strdup ("");
      rest_end--;
    }
  else if (q != NULL)
    {
      url->raw_query = g_strndup (q + 1, (gsize)(rest_end - q - 1));
      rest_end = q;
    }
  else
    url->raw_query = g_strdup ("");

  if (rest == rest_end || rest[0] != '/')
    {
      if (scheme_len > 0)
        url->opaque = TRUE;
      else if (rest != rest_end)
        {
          /* No scheme: Go refuses a colon in the first path segment. */
          const char *slash = memchr (rest, '/', (gsize)(rest_end - rest));
          const char *colon = memchr (rest, ':', (gsize)(rest_end - rest));
          if (colon != NULL && (slash == NULL || colon < slash))
            {
              *out_reason = g_strdup ("first path segment in URL cannot contain colon");
              bb_protocol_url_clear (url);
              return FALSE;
            }
        }
      if (!url->opaque)
        url->path_len = (gsize)(rest_end - rest);
      url->host = g_strdup ("");
    }
  else
    {
      const char *path = rest;
      if ((scheme_len > 0 || rest_end - rest < 3 || rest[2] != '/') && rest_end - rest >= 2
          && rest[1] == '/')
        {
          const char *auth = rest + 2;
          const char *auth_end = memchr (auth, '/', (gsize)(rest_end - auth));
          const char *at = NULL;
          if (auth_end == NULL)
            auth_end = rest_end;
          for (const char *c = auth; c < auth_end; c++)
            if (*c == '@')
              at = c;
          if (at != NULL)
            {
              gsize ulen;
              char *user;
              if (!go_valid_userinfo (auth, (gsize)(at - auth)))
                {
                  *out_reason = g_strdup ("invalid userinfo");
                  bb_protocol_url_clear (url);
                  return FALSE;
                }
              user = go_unescape (auth, (gsize)(at - auth), ENC_USER_PASSWORD, &ulen);
              if (user == NULL)
                {
                  *out_reason = g_strdup ("invalid escape in userinfo");
                  bb_protocol_url_clear (url);
                  return FALSE;
                }
              g_free (user);
              url->has_user = TRUE;
            }
          url->host = go_parse_host (at ? at + 1 : auth, (gsize)(auth_end - (at ? at + 1 : auth)),
                                     out_reason);
          if (url->host == NULL)
            {
              bb_protocol_url_clear (url);
              return FALSE;
            }
          path = auth_end;
        }
      else
        url->host = g_strdup ("");
      if (path < rest_end)
        {
          gsize plen;
          char *decoded = go_unescape (path, (gsize)(rest_end - path), ENC_PATH, &plen);
          if (decoded == NULL)
            {
              *out_reason = g_strdup ("invalid escape in path");
              bb_protocol_url_clear (url);
              return FALSE;
            }
          g_free (decoded);
          url->path_len = plen;
        }
    }

  /* setFragment + EscapedFragment: keep the raw text when it is validly encoded,
   * otherwise re-escape the decoded text. */
  if (*frag != '\0')
    {
      gsize flen;
      char *decoded = go_unescape (frag, strlen (frag), ENC_FRAGMENT, &flen);
      if (decoded == NULL)
        {
          *out_reason = g_strdup ("invalid escape in fragment");
          bb_protocol_url_clear (url);
          return FALSE;
        }
      url->fragment_len = flen;
      if (go_valid_encoded_fragment (frag))
        url->escaped_fragment = g_strdup (frag);
      else
        url->escaped_fragment = go_escape_fragment (decoded, flen);
      /* The decoded text of an invite URI's fragment is "k=" and the secret. */
      bb_crypto_wipe (decoded, flen);
      g_free (decoded);
    }
  else
    url->escaped_fragment = g_strdup ("");

  return TRUE;
}

gboolean
bb_protocol_parse_form (const char *raw, BbProtocolFormFunc func, gpointer user_data,
                        char **out_reason)
{
  const char *p = raw;

  g_return_val_if_fail (raw != NULL, FALSE);
  g_return_val_if_fail (out_reason != NULL, FALSE);

  while (*p != '\0')
    {
      const char *amp = strchr (p, '&');
      const char *end = amp ? amp : p + strlen (p);
      const char *eq;
      char *key, *value;
      gsize klen, vlen;

      if (memchr (p, ';', (gsize)(end - p)) != NULL)
        {
          *out_reason = g_strdup ("invalid semicolon separator in query");
          return FALSE;
        }
      if (end == p)
        {
          p = amp ? amp + 1 : end;
          continue;
        }
      eq = memchr (p, '=', (gsize)(end - p));
      key = go_unescape (p, (gsize)((eq ? eq : end) - p), ENC_QUERY_COMPONENT, &klen);
      if (key == NULL)
        {
          *out_reason = g_strdup ("invalid URL escape in key");
          return FALSE;
        }
      value = eq ? go_unescape (eq + 1, (gsize)(end - eq - 1), ENC_QUERY_COMPONENT, &vlen)
                 : (vlen = 0, g_strdup (""));
      if (value == NULL)
        {
          g_free (key);
          *out_reason = g_strdup ("invalid URL escape in value");
          return FALSE;
        }
      func (key, klen, value, vlen, user_data);
      g_free (key);
      bb_crypto_wipe (value, vlen);
      g_free (value);
      p = amp ? amp + 1 : end;
    }
  return TRUE;
}
