"""The Query and Mutation roots: what each operation does — validation, rules, transactions."""
