; hvmdm end-to-end VGA guest: an El Torito no-emulation boot program (up to
; 2048 bytes) assembled with nasm by tests/xen/lib/guest.sh. It shows four
; screens, each announced on COM1 as "VGA <step>", and waits for the step's
; digit ('1' to '4') on COM1 (dom0 writes it to the pty after its QMP
; screendump; any other byte, e.g. a late one for an earlier step, is
; ignored) or 300 s of BIOS timer ticks, saying which ("VGA KEY" or
; "VGA TIMEOUT"). The timeout is only for runs without dom0's script: a
; loaded host has made dom0 take more than 30 s for one screen, and a guest
; that moved on showed the next screen to dom0's dump.
;
;   BANNER  what SeaBIOS and the VGA BIOS left on screen (cursor hidden)
;   TEXT    mode 3 through INT 10h, 80x25 cells of known characters and
;           attributes written to B800:0000 (no blink bit, cursor hidden)
;   M13     mode 13h through INT 10h, pixel (x, y) = x XOR y, written to
;           A000:0000 (each byte a buffered write to the device model)
;   VBE     640x480x32 through the Bochs DISPI ports 0x1CE/0x1CF with the
;           linear framebuffer (BAR0 of PCI 1234:1111), pixel (x, y) =
;           R x, G y, B x+y, written through a flat (unreal-mode) FS
;
; then prints "VGA DONE" and halts.

        cpu 386
        bits 16
        org 0x7c00

COM1            equ 0x3f8
DEBUG_PORT      equ 0xe9
PCI_ADDR        equ 0xcf8
PCI_DATA        equ 0xcfc
DISPI_INDEX     equ 0x1ce
DISPI_DATA      equ 0x1cf

start:
        jmp     0:entry
entry:
        cli
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     sp, 0x7c00
        sti
        cld
        call    uart_init
        call    cursor_off
        mov     si, msg_banner
        call    step

        mov     ax, 0x0003
        int     0x10
        call    cursor_off
        call    draw_text
        mov     si, msg_text
        call    step

        mov     ax, 0x0013
        int     0x10
        call    draw_m13
        mov     si, msg_m13
        call    step

        call    find_lfb
        call    vbe_mode
        call    unreal
        call    draw_vbe
        mov     si, msg_vbe
        call    step

        mov     si, msg_done
        call    puts
.halt:
        hlt
        jmp     .halt

; INT 10h AH=01h: cursor start line bit 5 hides it.
cursor_off:
        mov     ah, 0x01
        mov     cx, 0x2000
        int     0x10
        ret

; Announce the screen, then wait for dom0's byte or the timeout.
BIOS_TICKS      equ 0x46c               ; 18.2 Hz, 0040:006C
STEP_TICKS      equ 5460                ; 300 s

step:
        call    puts
        mov     ebx, [BIOS_TICKS]
.poll:
        mov     dx, COM1 + 5
        in      al, dx
        test    al, 1
        jz      .idle
        mov     dx, COM1
        in      al, dx
        cmp     al, [step_key]
        je      .got
        jmp     .poll
.idle:
        mov     eax, [BIOS_TICKS]
        sub     eax, ebx
        cmp     eax, STEP_TICKS
        jae     .timeout
        hlt
        jmp     .poll
.got:
        inc     byte [step_key]
        mov     si, msg_key
        jmp     puts
.timeout:
        inc     byte [step_key]
        mov     si, msg_timeout
        jmp     puts

; Cell i: character 0x20 + i % 0x5f, attribute (i / 7) % 0x7f + 1.
draw_text:
        push    es
        mov     ax, 0xb800
        mov     es, ax
        xor     di, di
        xor     cx, cx
.cell:
        mov     ax, cx
        xor     dx, dx
        mov     bx, 0x5f
        div     bx
        mov     al, dl
        add     al, 0x20
        mov     [es:di], al
        mov     ax, cx
        xor     dx, dx
        mov     bx, 7
        div     bx
        xor     dx, dx
        mov     bx, 0x7f
        div     bx
        mov     al, dl
        inc     al
        mov     [es:di + 1], al
        add     di, 2
        inc     cx
        cmp     cx, 2000
        jb      .cell
        pop     es
        ret

draw_m13:
        push    es
        mov     ax, 0xa000
        mov     es, ax
        xor     di, di
        xor     bx, bx                  ; y
.row:
        xor     cx, cx                  ; x
.col:
        mov     al, cl
        xor     al, bl
        mov     [es:di], al
        inc     di
        inc     cx
        cmp     cx, 320
        jb      .col
        inc     bx
        cmp     bx, 200
        jb      .row
        pop     es
        ret

; EBP = BAR0 of the first 1234:1111 function on bus 0.
find_lfb:
        mov     ebx, 0x80000000
.dev:
        mov     eax, ebx
        mov     dx, PCI_ADDR
        out     dx, eax
        mov     dx, PCI_DATA
        in      eax, dx
        cmp     eax, 0x11111234
        je      .found
        add     ebx, 0x800
        cmp     ebx, 0x80010000
        jb      .dev
        mov     si, msg_nolfb
        call    puts
        jmp     $
.found:
        lea     eax, [ebx + 0x10]
        mov     dx, PCI_ADDR
        out     dx, eax
        mov     dx, PCI_DATA
        in      eax, dx
        and     eax, 0xfffffff0
        mov     ebp, eax
        ret

dispi:                                  ; index BX, value AX
        push    ax
        mov     dx, DISPI_INDEX
        mov     ax, bx
        out     dx, ax
        pop     ax
        mov     dx, DISPI_DATA
        out     dx, ax
        ret

vbe_mode:
        mov     si, vbe_regs
.next:
        lodsw
        cmp     ax, 0xffff
        je      .done
        mov     bx, ax
        lodsw
        call    dispi
        jmp     .next
.done:
        ret

vbe_regs:
        dw      4, 0                    ; ENABLE off
        dw      3, 32                   ; BPP
        dw      1, 640                  ; XRES
        dw      2, 480                  ; YRES
        dw      5, 0                    ; BANK
        dw      6, 640                  ; VIRT_WIDTH
        dw      8, 0                    ; X_OFFSET
        dw      9, 0                    ; Y_OFFSET
        dw      4, 0x41                 ; ENABLED | LFB_ENABLED
        dw      0xffff

; Big real mode: FS keeps a 4 GiB limit after returning to real mode.
unreal:
        cli
        lgdt    [gdt_desc]
        mov     eax, cr0
        or      al, 1
        mov     cr0, eax
        jmp     .pm
.pm:
        mov     bx, 8
        mov     fs, bx
        and     al, 0xfe
        mov     cr0, eax
        jmp     .rm
.rm:
        xor     bx, bx
        mov     fs, bx
        sti
        ret

draw_vbe:
        mov     edi, ebp
        xor     ebx, ebx                ; y
.row:
        xor     ecx, ecx                ; x
.col:
        mov     eax, ecx
        and     eax, 0xff
        shl     eax, 16
        mov     ah, bl
        mov     dl, cl
        add     dl, bl
        mov     al, dl
        mov     [fs:edi], eax
        add     edi, 4
        inc     ecx
        cmp     ecx, 640
        jb      .col
        inc     ebx
        cmp     ebx, 480
        jb      .row
        ret

%include "com1.inc"

gdt:
        dq      0
        dq      0x00cf92000000ffff      ; flat 4 GiB data
gdt_desc:
        dw      15
        dd      gdt

msg_banner      db "VGA BANNER", 13, 10, 0
msg_text        db "VGA TEXT", 13, 10, 0
msg_m13         db "VGA M13", 13, 10, 0
msg_vbe         db "VGA VBE", 13, 10, 0
msg_done        db "VGA DONE", 13, 10, 0
msg_nolfb       db "VGA NOLFB", 13, 10, 0
msg_key         db "VGA KEY", 13, 10, 0
step_key        db '1'                  ; the digit the current step takes
msg_timeout     db "VGA TIMEOUT", 13, 10, 0

        times 2048 - ($ - $$) db 0
