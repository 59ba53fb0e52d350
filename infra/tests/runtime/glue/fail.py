"""A Glue Python shell script that raises."""

print("loading the batch")
raise ValueError("the source file is missing")
