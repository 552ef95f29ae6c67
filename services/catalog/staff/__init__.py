"""Staff identity for the three admins (ADR 23): catalog's users are the only staff
accounts (passwords checked here alone), `Merchant.staff` says who works for which
merchant, and `StaffSession` is one browser's sign-in, which video's and checkout's admins
check over `/internal/v1/staff-sessions/`."""
