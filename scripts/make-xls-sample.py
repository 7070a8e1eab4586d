#!/usr/bin/env python3
"""Writes TallyHome's stock workbook as a legacy Excel 97-2003 file
(.xls, BIFF8) with xlwt, the same layout as examples/xlsx_generate.rs's
sample: a "Read me" sheet, the stock on "Stock" under two merged title
rows, the header on row 4, text SKUs and quantities, date cells, a date
typed as text and a bare serial number, a merged warehouse cell and a
"Total" row. xlwt stores no cached values for formulas, so the costs
are plain numbers here.

    python3 -m venv /tmp/xlwt && /tmp/xlwt/bin/pip install xlwt==1.3.0
    /tmp/xlwt/bin/python scripts/make-xls-sample.py OUT.xls
"""

import sys

import xlwt


def main(path):
    book = xlwt.Workbook(encoding="utf-8")
    read_me = book.add_sheet("Read me")
    read_me.write(0, 0, "Stock is on the sheet Stock. Call 555-0100 with questions.")
    sheet = book.add_sheet("Stock")
    title = xlwt.easyxf("font: bold on, height 280")
    bold = xlwt.easyxf("font: bold on")
    date = xlwt.easyxf(num_format_str="mm/dd/yyyy")
    money = xlwt.easyxf(num_format_str="$#,##0.00")
    sheet.write_merge(0, 0, 0, 8, "TallyHome Goods - stock and prices", title)
    sheet.write_merge(1, 1, 0, 8, "Week 11, 2024. Prices in USD.")
    for c, h in enumerate(["Item #", "UPC", "Description", "On Hand", "Unit",
                           "Cost", "Extended", "Next Delivery", "Warehouse"]):
        sheet.write(3, c, h, bold)
    sheet.write(4, 0, "00123")
    sheet.write(4, 1, "012345678905")
    sheet.write(4, 2, "Linen napkins, set of 4")
    sheet.write(4, 3, "1,250")
    sheet.write(4, 4, "EA")
    sheet.write(4, 5, 6.5, money)
    sheet.write(4, 6, 8125, money)
    sheet.write(4, 7, 45383, date)
    sheet.write_merge(4, 5, 8, 8, "Columbus OH")
    sheet.write(5, 0, "00124")
    sheet.write(5, 1, "012345678912")
    sheet.write(5, 2, "Table runner, oak")
    sheet.write(5, 3, 0)
    sheet.write(5, 4, "EA")
    sheet.write(5, 5, 12, money)
    sheet.write(5, 6, 0, money)
    sheet.write(5, 7, "04/15/2024")
    sheet.write(6, 0, "00125")
    sheet.write(6, 2, "Candle, beeswax")
    sheet.write(6, 3, 310)
    sheet.write(6, 4, "CS")
    sheet.write(6, 5, 8.4, money)
    sheet.write(6, 6, 2604, money)
    sheet.write(6, 7, 45397)
    sheet.write(6, 8, "Reno NV")
    sheet.write(8, 0, "Total")
    sheet.write(8, 3, 1560)
    book.save(path)


if __name__ == "__main__":
    main(sys.argv[1])
