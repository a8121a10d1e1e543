"""HTTP plumbing shared by every blueprint: settings, errors, caching, security, static
files and access to the store.  Nothing here defines a route of the atlas itself."""
