"""The gateway's rules without HTTP or a database: principals and permissions, passwords, lock-out, masking."""
