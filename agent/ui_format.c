/*
 * Parsing and formatting for the web UI's part of the API; see ui_format.h.
 */
#include "ui_format.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Longest Authorization header decoded; credentials are far shorter. */
#define BASIC_AUTH_MAX 1024

/* Reads the q value after ITEM's ';' parameters; 1.0 when there is none. */
static double item_quality(const char *item, size_t len)
{
	const char *q = NULL;

	for (size_t i = 0; i + 2 < len; i++) {
		if (item[i] == ';') {
			size_t j = i + 1;

			while (j < len && item[j] == ' ')
				j++;
			if (j + 1 < len && (item[j] == 'q' || item[j] == 'Q') && item[j + 1] == '=')
				q = item + j + 2;
		}
	}
	return q ? strtod(q, NULL) : 1.0;
}

/* Returns true when ITEM's primary language subtag is LANG (two letters). */
static bool item_is_language(const char *item, size_t len, const char *lang)
{
	while (len > 0 && *item == ' ') {
		item++;
		len--;
	}
	if (len < 2 || strncasecmp(item, lang, 2) != 0)
		return false;
	return len == 2 || item[2] == '-' || item[2] == ';' || item[2] == ' ';
}

const char *agent_ui_pick_language(const char *accept_language)
{
	double best_pt = 0, best_en = 0;
	const char *item = accept_language;

	if (!item)
		return "en";
	/* A later item only wins with a higher q, so ties go to the earlier one. */
	while (*item) {
		size_t len = strcspn(item, ",");
		double q = item_quality(item, len);

		if (item_is_language(item, len, "pt") && q > best_pt && q > best_en)
			best_pt = q;
		else if (item_is_language(item, len, "en") && q > best_en && q > best_pt)
			best_en = q;
		item += len;
		if (*item == ',')
			item++;
	}
	return best_pt > best_en ? "pt" : "en";
}

int agent_ui_content_disposition(const char *name, char *ret_value, size_t size)
{
	int n;

	if (name[0] == '\0' || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					    "0123456789._-") != strlen(name))
		return -EINVAL;
	n = snprintf(ret_value, size, "attachment; filename=\"%s\"", name);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int agent_ui_parse_basic_auth(const char *header, char *ret_user, char *ret_password,
			      size_t size)
{
	unsigned char decoded[BASIC_AUTH_MAX];
	size_t len, pad = 0;
	char *colon;
	int n, r = -EINVAL;

	if (!header || strncasecmp(header, "Basic ", 6) != 0)
		return -EINVAL;
	header += 6;
	while (*header == ' ')
		header++;
	len = strlen(header);
	if (len == 0 || len % 4 != 0 || len / 4 * 3 >= sizeof(decoded))
		return -EINVAL;
	n = EVP_DecodeBlock(decoded, (const unsigned char *)header, (int)len);
	if (n < 0)
		return -EINVAL;
	/* EVP_DecodeBlock counts the bytes that '=' padding stands for. */
	while (pad < 2 && header[len - 1 - pad] == '=')
		pad++;
	n -= (int)pad;
	decoded[n] = '\0';

	colon = memchr(decoded, ':', (size_t)n);
	if (!colon || memchr(decoded, '\0', (size_t)n))
		goto out;
	*colon = '\0';
	if (strlen((char *)decoded) >= size || strlen(colon + 1) >= size)
		goto out;
	memcpy(ret_user, decoded, strlen((char *)decoded) + 1);
	memcpy(ret_password, colon + 1, strlen(colon + 1) + 1);
	r = 0;
out:
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return r;
}

bool agent_ui_ip_is_loopback(const char *ip)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, ip, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, ip, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6);
	return false;
}

/* A Host header names the listener directly, so a page that a rebinding DNS
 * name points at 127.0.0.1 is rejected before its requests reach a handler. */
bool agent_ui_host_is_local(const char *host)
{
	char name[64];
	const char *end;
	size_t len;

	if (!host)
		return false;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end || (end[1] != '\0' && end[1] != ':'))
			return false;
		len = (size_t)(end - host - 1);
		host++;
	} else {
		end = strchr(host, ':');
		len = end ? (size_t)(end - host) : strlen(host);
	}
	if (len == 0 || len >= sizeof(name))
		return false;
	memcpy(name, host, len);
	name[len] = '\0';
	return strcasecmp(name, "localhost") == 0 || agent_ui_ip_is_loopback(name);
}

bool agent_ui_origin_matches(const char *origin, const char *host)
{
	if (!origin || !host || strncmp(origin, "http://", 7) != 0)
		return false;
	return strcasecmp(origin + 7, host) == 0;
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Separators are ".", "_", "__" or one or more "-". */
static size_t separator_length(const char *s)
{
	size_t n;

	if (s[0] == '.')
		return 1;
	if (s[0] == '_')
		return s[1] == '_' ? 2 : 1;
	n = strspn(s, "-");
	return n;
}

bool agent_ui_repository_is_valid(const char *name)
{
	const char *p = name;

	if (strlen(name) == 0 || strlen(name) > AGENT_UI_NAME_MAX)
		return false;
	for (;;) {
		/* One path component: alnum runs joined by separators. */
		if (!is_lower_alnum(*p))
			return false;
		while (is_lower_alnum(*p))
			p++;
		while (separator_length(p) > 0) {
			p += separator_length(p);
			if (!is_lower_alnum(*p))
				return false;
			while (is_lower_alnum(*p))
				p++;
		}
		if (*p == '\0')
			return true;
		if (*p != '/')
			return false;
		p++;
	}
}

bool agent_ui_reference_is_valid(const char *ref)
{
	size_t len = strlen(ref);

	if (strncmp(ref, "sha256:", 7) == 0)
		return len == 7 + 64 && strspn(ref + 7, "0123456789abcdef") == 64;
	if (len == 0 || len > AGENT_UI_REFERENCE_MAX)
		return false;
	if (!isalnum((unsigned char)ref[0]) && ref[0] != '_')
		return false;
	return strspn(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789._-") == len;
}

const char *agent_ui_static_type(const char *path)
{
	static const struct {
		const char *extension;
		const char *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
	};
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].extension) == 0)
			return types[i].type;
	return NULL;
}

int agent_ui_pem_to_der(const char *pem, size_t len, unsigned char **ret_der,
			size_t *ret_len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *cert = NULL;
	unsigned char *der = NULL;
	int n, r = -EINVAL;

	if (!bio)
		return -ENOMEM;
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (!cert)
		goto out;
	n = i2d_X509(cert, NULL);
	if (n <= 0)
		goto out;
	der = malloc((size_t)n);
	if (!der) {
		r = -ENOMEM;
		goto out;
	}
	/* i2d_X509 advances the pointer it is given, so it gets a copy. */
	{
		unsigned char *p = der;

		i2d_X509(cert, &p);
	}
	*ret_der = der;
	*ret_len = (size_t)n;
	r = 0;
out:
	X509_free(cert);
	BIO_free(bio);
	return r;
}
