# Turn SQL files into a C table (name, text) compiled into lkcore: the versioned migrations
# (sql/NNN_name.sql, named by file name) or the repeatable files (sql/functions/*.sql,
# sql/views/*.sql, named by their path under sql/).
# Called by CMakeLists.txt with -DOUT=... -DTABLE=migrations|repeatables -DBASE=<sql dir>
# -DFILES=a;b;c
set(body "/* generated from the sql directory by ci/embed_migrations.cmake; do not edit */\n")
string(APPEND body "#include \"migrations.h\"\n#include <stddef.h>\n")
set(entries "")
set(index 0)
foreach(file IN LISTS FILES)
    file(RELATIVE_PATH name ${BASE} ${file})
    file(READ ${file} hex HEX)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
    string(APPEND body "static const char m${index}[] = {${hex} 0x00};\n")
    string(APPEND entries "    {\"${name}\", m${index}},\n")
    math(EXPR index "${index} + 1")
endforeach()
string(APPEND body "const struct migration ${TABLE}[] = {\n${entries}    {NULL, NULL}\n};\n")
file(WRITE ${OUT} "${body}")
