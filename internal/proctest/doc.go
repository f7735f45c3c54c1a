// Package proctest runs the project's commands as real, separate processes
// for tests: it builds a main package once per test binary, starts it in its
// own process group with its output in a log file, and kills the whole group
// when the test ends, failed or not.
package proctest
