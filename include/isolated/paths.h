/* Where the installed files are, as the Makefile compiles them in
 * (-DISO_DATADIR, -DISO_SYSCONFDIR; these defaults are for another build),
 * and the version both programs print. */
#ifndef ISOLATED_PATHS_H
#define ISOLATED_PATHS_H

#ifndef ISO_DATADIR
#define ISO_DATADIR "/usr/share/isolated"
#endif
#ifndef ISO_SYSCONFDIR
#define ISO_SYSCONFDIR "/etc/isolated"
#endif
#define ISO_VERSION "0.1"

#endif
