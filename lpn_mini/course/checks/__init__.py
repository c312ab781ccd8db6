"""The graded checks: one file per exercise, ``test_exNN_<slug>.py``.

They are not the library's unit tests (those live in ``tests/`` and may rebuild answers by
hand). A check calls the student's function (``compare.function``) on stored inputs and
compares what comes back with stored reference numbers (``lpn_mini/course/fixtures/``,
made by ``lpn_mini/course/makers.py``), plus properties that need no reference (shapes,
float32 in gives float32 out, inputs left unchanged, KL >= 0 ...) and gradients taken by
autograd through the student's function, compared with stored reference gradients. No
check runs code that computes an answer.

While grading, the process that runs these checks (and the student's code) has the inputs
only: each expected output in its fixtures is a placeholder, and ``compare.close`` records
what the student's function gave for the grader's own process to compare (see
``compare.py``). Run by hand, the fixtures hold the expected outputs and the comparisons
happen at once.

Visible and hidden. Every check test takes the fixture ``fx``; ``conftest.py`` runs each
test once per fixture set, ``[visible]`` and ``[hidden]``: the same check on other seeds
and other shapes. The hidden set exists only in the instructor's edition.

The rule for leaving the hidden checks out of a student edition (the handout builder
follows it): **leave out the folders ``lpn_mini/course/fixtures/hidden/`` and
``fixtures/expected-hidden/``** (and ``makers.py``, which holds the hidden seeds), and set
``EDITION = "student"`` in ``lpn_mini/course/edition.py``. Nothing else is hidden: no
check file is hidden, every file in this package ships. The student edition runs only the
``visible`` set (``conftest.visibilities``), whether or not a hidden folder is present.

Run by hand in the instructor's edition (``pytest lpn_mini/course/checks``), the checks
test the library's own reference functions, which pass every one of them.
"""
