"""Course exercises built from the library, and an autograder that runs the library's tests
against a student's files. See ``exercises/README.md`` for the instructor guide."""
