#!/usr/bin/env python3
"""Writes the openpyxl fixtures (and a GB18030 CSV) the import unit tests read: make_openpyxl.py OUTDIR."""
import datetime
import sys

from openpyxl import Workbook

out = sys.argv[1]

book = Workbook()
hidden = book.active
hidden.title = "hidden"
hidden.sheet_state = "hidden"
hidden.append(["email", "name"])
hidden.append(["nobody@example.cn", "should not be read"])

users = book.create_sheet("用户")
users.append(["用户导入"])
users.append(["邮箱", "姓名", "手机号", "角色", "模块", "密码", "备注"])
users.append(["alice@example.cn", "张三", 13800000001, "USER", "crm、erp；hr", "s3cret pw", "x"])
users["A5"] = "bob@example.cn"
users["B5"] = "Bob"
users["C5"] = "+86 138 0000 0002"
users["D5"] = "ADMIN"
users["E5"] = "crm,erp"
users.append(["carol@example.cn", "Carol", 13900000003.0, None, None, None, None])

types = book.create_sheet("types")
types.append(["date", datetime.date(2024, 3, 15)])
types.append(["datetime", datetime.datetime(2024, 3, 15, 9, 30, 5)])
types.append(["true", True])
types.append(["false", False])
types.append(["float", 1.5])
types.append(["big", 1e20])
types.append(["sum", 0.1 + 0.2])
types.append(["negative", -42])
types["D9"] = "sparse"
book.save(f"{out}/op_users.xlsx")

with open(f"{out}/gb18030.csv", "w", encoding="gb18030", newline="") as f:
    f.write("邮箱,姓名,手机号,模块\r\nli@example.cn,李雷,13800000001,客户管理、财务\r\n")
