#ifndef TRIBUTARY_CMYSQL_SHIM_H
#define TRIBUTARY_CMYSQL_SHIM_H
#include <mysql.h>
#include <errmsg.h>
#endif
