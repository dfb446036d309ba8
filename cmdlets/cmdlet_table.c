/* Format-Table layout; see cmdlet_table.h. */
#include "cmdlet_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Returns the length in bytes of the character at S: its first byte and the
 * UTF-8 continuation bytes after it.  This lets a C locale, where mbrtowc
 * rejects every non-ASCII byte, still count one column per character. */
static size_t utf8_sequence_length(const char *s)
{
	size_t n = 1;

	while (s[n] != '\0' && ((unsigned char)s[n] & 0xC0) == 0x80)
		n++;
	return n;
}

size_t cmdlet_text_width(const char *s)
{
	mbstate_t state;
	size_t width = 0;

	memset(&state, 0, sizeof(state));
	while (*s) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &state);
		int w = -1;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&state, 0, sizeof(state));
			n = utf8_sequence_length(s);
		} else {
			w = wcwidth(wc);
		}
		width += w < 0 ? 1 : (size_t)w;
		s += n;
	}
	return width;
}

static const char *cell_text(const char *cell)
{
	return cell ? cell : "";
}

/* Writes CELL, padded with blanks to WIDTH columns unless it ends the line. */
static void cell_write(FILE *out, const char *cell, size_t width, int last)
{
	size_t used = cmdlet_text_width(cell);

	fputs(cell, out);
	if (last) {
		fputc('\n', out);
		return;
	}
	for (; used < width; used++)
		fputc(' ', out);
	fputc(' ', out);
}

/* Writes the header row and its underline of dashes. */
static void header_write(FILE *out, const char *const *headers, size_t n_columns,
			 const size_t *widths)
{
	for (size_t c = 0; c < n_columns; c++)
		cell_write(out, headers[c], widths[c], c + 1 == n_columns);

	for (size_t c = 0; c < n_columns; c++) {
		size_t dashes = cmdlet_text_width(headers[c]);

		for (size_t i = 0; i < dashes; i++)
			fputc('-', out);
		fputc(c + 1 == n_columns ? '\n' : ' ', out);
		for (size_t i = dashes; c + 1 < n_columns && i < widths[c]; i++)
			fputc(' ', out);
	}
}

/* Returns a new array with the width of each column: its widest cell or
 * header.  Returns NULL when out of memory. */
static size_t *column_widths(const char *const *headers, size_t n_columns,
			     const char *const *cells, size_t n_rows)
{
	size_t *widths = calloc(n_columns, sizeof(*widths));

	if (!widths)
		return NULL;
	for (size_t c = 0; c < n_columns; c++) {
		widths[c] = cmdlet_text_width(headers[c]);
		for (size_t row = 0; row < n_rows; row++) {
			size_t w = cmdlet_text_width(cell_text(cells[row * n_columns + c]));

			if (w > widths[c])
				widths[c] = w;
		}
	}
	return widths;
}

int cmdlet_table_format(const char *const *headers, size_t n_columns,
			const char *const *cells, size_t n_rows, char **ret_text)
{
	size_t *widths = NULL;
	char *text = NULL;
	size_t text_len = 0;
	FILE *out = NULL;
	int r = -ENOMEM;

	if (n_columns == 0)
		return -EINVAL;

	widths = column_widths(headers, n_columns, cells, n_rows);
	if (!widths)
		goto out;

	out = open_memstream(&text, &text_len);
	if (!out)
		goto out;

	fputc('\n', out);
	header_write(out, headers, n_columns, widths);
	for (size_t row = 0; row < n_rows; row++)
		for (size_t c = 0; c < n_columns; c++)
			cell_write(out, cell_text(cells[row * n_columns + c]), widths[c],
				   c + 1 == n_columns);
	fputc('\n', out);

	if (fclose(out) != 0) {
		out = NULL;
		goto out;
	}
	out = NULL;

	*ret_text = text;
	text = NULL;
	r = 0;
out:
	if (out)
		fclose(out);
	free(text);
	free(widths);
	return r;
}
