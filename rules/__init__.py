"""The domain rules the API and the jobs share, with no I/O: user field rules, the password
policy, the CSV column contract and the event vocabulary."""
