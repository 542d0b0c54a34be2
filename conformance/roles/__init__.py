"""The I/O around the core: the reference server (the implementation under test is a DM client)
on pytest-httpserver, the reference client (it is a DM server) on httpx, and the HTTP plumbing
they share with the bundled samples; network.py says where the harness's servers listen, what
URLs they hand out and the TLS they speak."""
