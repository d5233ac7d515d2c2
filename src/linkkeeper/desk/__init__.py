"""The curator's desk: the reports (report.py), the local review page (review.py, templates/ through pages.py)
and the decisions a person makes on repairs (decisions.py). Knows nothing of probing."""
