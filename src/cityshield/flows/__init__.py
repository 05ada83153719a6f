"""What crosses domains: each flow composes services of several domains for one action, so
the CLI, the server and tests call one function and get the same side effects."""
