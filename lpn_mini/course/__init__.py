"""The course built on the library: exercises, grading, the student edition, Gradescope.

- ``exercises``  the exercise files, cut from the library's marked solutions
- ``checks/``, ``fixtures/``, ``makers``, ``fixtures``  the graded checks and their numbers
- ``grader``, ``plugin``  ``lpn-mini grade``: each student file graded in a sandboxed child
- ``editions``, ``edition``  the student edition (the handout) and the scan for answers in it
- ``gradescope``  the autograder zip and what it runs for each submission
- ``docs``  the chapters rendered to notebooks

Everything here imports the core; the core never imports from here. See
``exercises/README.md`` for the instructor guide.
"""
