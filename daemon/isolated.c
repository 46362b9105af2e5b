/* Placeholder until the daemon's main lands (issue 4, in progress). */
#include <stdio.h>

int main(void)
{
	fputs("isolated: not built yet\n", stderr);
	return 1;
}
