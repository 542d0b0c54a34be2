"""The sans-I/O protocol core: messages, codecs, ClientURIs, the DM tree and the two session
machines. Nothing here opens a socket or imports an HTTP library; the roles and the samples add
the I/O around it, so one core judges the implementation under test and our own samples alike."""
