// ncursesw for Swift: the wide-character API, and getters for the globals that
// strict concurrency will not let Swift read directly. Every symbol here starts with vigie_.
#ifndef VIGIE_CNCURSESW_SHIM_H
#define VIGIE_CNCURSESW_SHIM_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <ncursesw/curses.h>

static inline WINDOW *vigie_stdscr(void) { return stdscr; }
static inline int vigie_lines(void) { return LINES; }
static inline int vigie_cols(void) { return COLS; }
static inline int vigie_colors(void) { return COLORS; }
static inline int vigie_color_pairs(void) { return COLOR_PAIRS; }
static inline chtype vigie_color_pair(int n) { return COLOR_PAIR(n); }
static inline int vigie_key_resize(void) { return KEY_RESIZE; }
static inline int vigie_key_mouse(void) { return KEY_MOUSE; }
static inline chtype vigie_a_bold(void) { return A_BOLD; }
static inline mmask_t vigie_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t vigie_button1_double_clicked(void) { return BUTTON1_DOUBLE_CLICKED; }
static inline chtype vigie_a_reverse(void) { return A_REVERSE; }

#endif
