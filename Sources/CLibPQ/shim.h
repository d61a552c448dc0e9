// libpq's public API. The include path comes from `pkg-config --cflags libpq`
// (Debian puts the header in /usr/include/postgresql).
#include <libpq-fe.h>
