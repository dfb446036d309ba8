/* Tests of the Format-Table layout (cmdlet_table.c). */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>

#include "cmdlet_table.h"
#include "unit.h"

static const char *const headers[] = { "Endpoint", "IPAddress", "Username", "Password" };

/* The device's output, as pwsh prints it, for the values of the issue. */
static void test_table_device_example(void)
{
	const char *const cells[] = { "ecr.dbe-hw6h1t2.microsoftdatabox.com:31001",
				      "10.128.44.41", "ase-ecr-user", "i3eTsU4zGYyIgxV" };
	char *text = NULL;

	CHECK_INT(cmdlet_table_format(headers, 4, cells, 1, &text), 0);
	CHECK_STR(text,
		  "\n"
		  "Endpoint                                   IPAddress    Username     Password\n"
		  "--------                                   ---------    --------     --------\n"
		  "ecr.dbe-hw6h1t2.microsoftdatabox.com:31001 10.128.44.41 ase-ecr-user i3eTsU4zGYyIgxV\n"
		  "\n");
	free(text);
}

/* A header wider than its cells sets the column width; the last column is
 * padded neither in the header nor in the rows. */
static void test_table_header_widest(void)
{
	const char *const cells[] = { "e:1", "1.2.3.4", "u", "p" };
	char *text = NULL;

	CHECK_INT(cmdlet_table_format(headers, 4, cells, 1, &text), 0);
	CHECK_STR(text,
		  "\n"
		  "Endpoint IPAddress Username Password\n"
		  "-------- --------- -------- --------\n"
		  "e:1      1.2.3.4   u        p\n"
		  "\n");
	free(text);
}

static void test_table_several_rows(void)
{
	const char *const two_headers[] = { "Name", "Value" };
	const char *const cells[] = { "a", "1", "longer-name", NULL };
	char *text = NULL;

	CHECK_INT(cmdlet_table_format(two_headers, 2, cells, 2, &text), 0);
	CHECK_STR(text,
		  "\n"
		  "Name        Value\n"
		  "----        -----\n"
		  "a           1\n"
		  "longer-name \n"
		  "\n");
	free(text);
}

static void test_table_no_columns(void)
{
	char *text = NULL;

	CHECK_INT(cmdlet_table_format(headers, 0, NULL, 0, &text), -EINVAL);
	CHECK(text == NULL);
}

/* "ção" is 5 bytes but 3 columns; the width must count columns. */
static void test_text_width_utf8(void)
{
	const char *const one_header[] = { "Nome", "X" };
	const char *const cells[] = { "ação", "y" };
	char *text = NULL;

	CHECK_INT(cmdlet_text_width("abc"), 3);
	CHECK_INT(cmdlet_text_width("a\xc3\xa7\xc3\xa3o"), 4);
	CHECK_INT(cmdlet_text_width(""), 0);

	CHECK_INT(cmdlet_table_format(one_header, 2, cells, 1, &text), 0);
	CHECK_STR(text, "\nNome X\n---- -\na\xc3\xa7\xc3\xa3o y\n\n");
	free(text);
}

int main(void)
{
	RUN(test_table_device_example);
	RUN(test_table_header_widest);
	RUN(test_table_several_rows);
	RUN(test_table_no_columns);
	RUN(test_text_width_utf8);

	/* The same widths must come out under a UTF-8 locale, where wcwidth is used. */
	if (setlocale(LC_ALL, "C.UTF-8")) {
		RUN(test_table_device_example);
		RUN(test_text_width_utf8);
	}
	return UNIT_EXIT();
}
