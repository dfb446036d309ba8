/*
 * Text tables in the layout of PowerShell's Format-Table.
 *
 * A table is a blank line, the header row, a row of dashes as long as each
 * header, the data rows and a closing blank line.  Each column is as wide as
 * its widest cell, measured in terminal columns, and columns are separated by
 * one space.  The last column is not padded.
 */
#ifndef EDGECR_CMDLET_TABLE_H
#define EDGECR_CMDLET_TABLE_H

#include <stddef.h>

/*
 * Formats N_ROWS rows of N_COLUMNS cells.  HEADERS has N_COLUMNS entries and
 * CELLS has N_ROWS * N_COLUMNS entries, row after row; a NULL cell prints as
 * empty.  Strings are UTF-8.  On success *ret_text is a new string that the
 * caller frees.  Returns 0, -EINVAL when N_COLUMNS is 0, or -ENOMEM.
 */
int cmdlet_table_format(const char *const *headers, size_t n_columns,
			const char *const *cells, size_t n_rows, char **ret_text);

/*
 * Returns the number of terminal columns that the UTF-8 string S takes.
 * Bytes that are not valid UTF-8 or not printable count as one column each.
 */
size_t cmdlet_text_width(const char *s);

#endif
