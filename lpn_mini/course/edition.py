"""Which edition of lpn-mini this is: "instructor" (this checkout: reference solutions in the
library, hidden checks) or "student" (the handout: every solution body a stub, visible
checks only).

The handout builder rewrites the line below to ``EDITION = "student"``. What changes with it:

- the grader runs the visible checks only (the instructor's edition runs visible + hidden,
  and each result says which);
- grading exercise k uses the student's own functions from the other exercise files in the
  same folder for what exercise k relies on (the library's are stubs there), and a failure
  caused by an unfinished or wrong earlier exercise says which one. The instructor's
  edition keeps each exercise isolated: every other function is the reference.
"""
EDITION = "instructor"
EDITIONS = ("instructor", "student")
