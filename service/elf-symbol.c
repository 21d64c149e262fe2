/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Part of bpfd-inspect: a uprobe's binary is the caller's, so only the unprivileged helper parses it. */
#include <errno.h>
#include <gelf.h>
#include <string.h>

#include "elf-symbol.h"

int elf_function_offset(int fd, const char *function, uint64_t *ret) {
        Elf *elf;
        Elf_Scn *scn = NULL;
        int r = -ENOENT;

        if (elf_version(EV_CURRENT) == EV_NONE)
                return -EIO;
        elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
        if (!elf)
                return -ENOEXEC;
        if (elf_kind(elf) != ELF_K_ELF) {
                elf_end(elf);
                return -ENOEXEC;
        }
        /* Look in .symtab and .dynsym for a defined function of that name; its file offset is its address
         * relative to the section that holds it, plus that section's offset in the file. */
        while (r == -ENOENT && (scn = elf_nextscn(elf, scn))) {
                GElf_Shdr shdr;
                Elf_Data *data;

                if (!gelf_getshdr(scn, &shdr) || !(shdr.sh_type == SHT_SYMTAB || shdr.sh_type == SHT_DYNSYM))
                        continue;
                data = elf_getdata(scn, NULL);
                if (!data || shdr.sh_entsize == 0)
                        continue;
                for (size_t i = 0; i < shdr.sh_size / shdr.sh_entsize; i++) {
                        GElf_Sym sym;
                        GElf_Shdr sym_shdr;
                        Elf_Scn *sym_scn;
                        const char *name;

                        if (!gelf_getsym(data, (int) i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
                            sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
                                continue;
                        name = elf_strptr(elf, shdr.sh_link, sym.st_name);
                        if (!name || strcmp(name, function) != 0)
                                continue;
                        sym_scn = elf_getscn(elf, sym.st_shndx);
                        if (!sym_scn || !gelf_getshdr(sym_scn, &sym_shdr))
                                continue;
                        *ret = sym.st_value - sym_shdr.sh_addr + sym_shdr.sh_offset;
                        r = 0;
                        break;
                }
        }
        elf_end(elf);
        return r;
}

