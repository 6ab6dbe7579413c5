-- A page of a common word ("martinez", 3% of users) is read by walking the sort key's index
-- and checking the word on each user: 15,000 users, so 15,000 table pages, for a page of 51
-- with filters (100 ms once those pages have left the cache). With search_text in the index,
-- db/user_search.py checks the word on the index entries alone and reads the table only for
-- the users that hold it (1,700 pages instead of 15,600). PostgreSQL answers from an index
-- only when it holds every column the query names, the column under lower() too.
-- For the default order and the one a directory is most often browsed by: the other orders
-- walk as before, and every import keeps a wider index up to date for each order widened.
DROP INDEX users_order_username;
CREATE INDEX users_order_username ON users (tenant_id, lower(username), id)
    INCLUDE (search_text, username);
DROP INDEX users_order_last_name;
CREATE INDEX users_order_last_name ON users (tenant_id, lower(last_name), id)
    INCLUDE (search_text, last_name);
