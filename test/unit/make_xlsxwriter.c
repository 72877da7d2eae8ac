/* Writes the libxlsxwriter fixtures the import unit tests read: make_xlsxwriter OUTDIR. */
#include <stdio.h>
#include <xlsxwriter.h>

/* The users workbook: hidden first sheet, numbers, rich text, a date, booleans, a sparse row. */
static int users(const char *path) {
    lxw_workbook *book = workbook_new(path);
    lxw_worksheet *notes = workbook_add_worksheet(book, "notes");
    lxw_worksheet *ws = workbook_add_worksheet(book, "Users");
    lxw_format *bold = workbook_add_format(book);
    lxw_format *date = workbook_add_format(book);
    format_set_bold(bold);
    format_set_num_format(date, "yyyy-mm-dd");
    worksheet_write_string(notes, 0, 0, "email", NULL);
    worksheet_write_string(notes, 0, 1, "name", NULL);
    worksheet_activate(ws);
    worksheet_hide(notes);

    const char *header[] = {"E-mail", "Name", "Phone", "Role", "Modules", "Password", "Joined", "Active"};
    for (int c = 0; c < 8; c++) worksheet_write_string(ws, 0, (lxw_col_t)c, header[c], bold);
    worksheet_write_string(ws, 1, 0, "alice@example.cn", NULL);
    lxw_rich_string_tuple f1 = {.format = bold, .string = "Ali"}, f2 = {.format = NULL, .string = "ce Wang"};
    lxw_rich_string_tuple *rich[] = {&f1, &f2, NULL};
    worksheet_write_rich_string(ws, 1, 1, rich, NULL);
    worksheet_write_number(ws, 1, 2, 13800000001.0, NULL);
    worksheet_write_string(ws, 1, 3, "USER", NULL);
    worksheet_write_string(ws, 1, 4, "crm、erp", NULL);
    lxw_datetime joined = {2024, 3, 15, 0, 0, 0};
    worksheet_write_datetime(ws, 1, 6, &joined, date);
    worksheet_write_boolean(ws, 1, 7, 1, NULL);
    worksheet_write_string(ws, 9, 0, "zoe@example.cn", NULL);
    worksheet_write_string(ws, 9, 1, "Zoe", NULL);
    worksheet_write_number(ws, 9, 2, 1.5e15, NULL);
    worksheet_write_boolean(ws, 9, 7, 0, NULL);
    return workbook_close(book);
}

/* The same kind of sheet in constant-memory mode, where libxlsxwriter writes inline strings. */
static int inline_strings(const char *path) {
    lxw_workbook_options options = {.constant_memory = LXW_TRUE, .tmpdir = NULL, .use_zip64 = LXW_FALSE};
    lxw_workbook *book = workbook_new_opt(path, &options);
    lxw_worksheet *ws = workbook_add_worksheet(book, NULL);
    worksheet_write_string(ws, 0, 0, "email", NULL);
    worksheet_write_string(ws, 0, 1, "name", NULL);
    worksheet_write_string(ws, 1, 0, "inline@example.cn", NULL);
    worksheet_write_string(ws, 1, 1, "内联 字符串", NULL);
    worksheet_write_number(ws, 1, 2, 42, NULL);
    return workbook_close(book);
}

int main(int argc, char **argv) {
    char path[4096];
    if (argc != 2) return 2;
    snprintf(path, sizeof path, "%s/lxw_users.xlsx", argv[1]);
    if (users(path)) return 1;
    snprintf(path, sizeof path, "%s/lxw_inline.xlsx", argv[1]);
    return inline_strings(path) ? 1 : 0;
}
