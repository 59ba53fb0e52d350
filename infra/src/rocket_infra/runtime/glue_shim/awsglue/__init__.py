"""The piece of the Glue runtime library that plain Python shell scripts use, for local runs."""
