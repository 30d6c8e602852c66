DROP TABLE rate_limit_windows;
DROP TABLE api_keys;
