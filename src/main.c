/* main.c -- lkarchive's entry point: process protections and global library set-up, then the
 * command line (cli.c). */
#include <curl/curl.h>
#include <stdio.h>

#include "cli.h"
#include "process.h"

int main(int argc, char **argv)
{
    int status;

    process_init();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("lkarchive: error: could not initialise libcurl\n", stderr);
        return CLI_EXIT_INTERNAL;
    }
    status = cli_main(argc, argv);
    curl_global_cleanup();
    return status;
}
