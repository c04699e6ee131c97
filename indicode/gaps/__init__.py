"""The catalogue's gaps: indicators no code fits, grouped across documents into requests for new codes.

Modules, one job each: `similar` (when two indicator texts measure the same thing: character and
vector similarity, never a rate with a count or two different objects), `mine` (the groups, their
canonical name, class, unit and counts), `workbook` (the 申请新增指标 request workbook: written, read back
as proposals, several offices' merged).
"""
