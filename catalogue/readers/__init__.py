"""One reader per document format; `detect.read_document` picks the right one from the content."""
