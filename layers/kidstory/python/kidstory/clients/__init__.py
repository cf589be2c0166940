"""The clients: the `kidstory` command-line client and the key admin. They run on people's
machines (installed with the package), never in Lambda: the kidstory layer's asset leaves this
package out, and nothing else in kidstory imports it (.importlinter)."""
