/* Writes the benchmark's import files: make_import_files OUTDIR N PASSWORDS writes users_N.xlsx
   (libxlsxwriter, constant memory) and users_N.csv with N users of the sample tenant HOSP_A,
   each with a password when PASSWORDS is 1. */
#include <stdio.h>
#include <stdlib.h>
#include <xlsxwriter.h>

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    int n = atoi(argv[2]), passwords = atoi(argv[3]);
    char path[4096], email[64], name[64], phone[32];
    snprintf(path, sizeof path, "%s/users_%d%s.csv", argv[1], n, passwords ? "_pw" : "");
    FILE *csv = fopen(path, "w");
    snprintf(path, sizeof path, "%s/users_%d%s.xlsx", argv[1], n, passwords ? "_pw" : "");
    lxw_workbook_options options = {.constant_memory = LXW_TRUE, .tmpdir = NULL, .use_zip64 = LXW_FALSE};
    lxw_workbook *book = workbook_new_opt(path, &options);
    lxw_worksheet *ws = workbook_add_worksheet(book, "users");
    if (!csv || !book) return 1;
    const char *header[] = {"email", "name", "phone", "role", "modules", "password"};
    for (int c = 0; c < 5 + passwords; c++) worksheet_write_string(ws, 0, (lxw_col_t)c, header[c], NULL);
    fprintf(csv, "email,name,phone,role,modules%s\n", passwords ? ",password" : "");
    for (int i = 1; i <= n; i++) {
        snprintf(email, sizeof email, "bench%06d@hosp-a.example", i);
        snprintf(name, sizeof name, "用户 %d", i);
        snprintf(phone, sizeof phone, "%.0f", 15000000000.0 + i);
        worksheet_write_string(ws, (lxw_row_t)i, 0, email, NULL);
        worksheet_write_string(ws, (lxw_row_t)i, 1, name, NULL);
        worksheet_write_number(ws, (lxw_row_t)i, 2, 15000000000.0 + i, NULL);
        worksheet_write_string(ws, (lxw_row_t)i, 3, "USER", NULL);
        worksheet_write_string(ws, (lxw_row_t)i, 4, "aia", NULL);
        if (passwords) worksheet_write_string(ws, (lxw_row_t)i, 5, "bench-password-1", NULL);
        fprintf(csv, "%s,%s,%s,USER,aia%s\n", email, name, phone, passwords ? ",bench-password-1" : "");
    }
    fclose(csv);
    return workbook_close(book) ? 1 : 0;
}
