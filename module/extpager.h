/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _EXTPAGER_H
#define _EXTPAGER_H

int extpager_genl_init(void);
void extpager_genl_exit(void);

#endif /* _EXTPAGER_H */
